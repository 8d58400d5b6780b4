"""series-build: the build checks a kernel submission needs beyond "it boots".

1. Every patch builds on its own: the patches are applied one more at a
   time to one tree (work/src/series-build-*) and each prefix is built for
   ARCH=um with the fast variant's fragments, incrementally, in
   build/series-um/ (options a prefix does not define yet are dropped).
2. The fault points compile away: the whole series is built once more with
   CONFIG_ZSMALLOC_FAULT_INJECTION off, and mm/zsmalloc.o must then not
   reference should_fail() (and must with it on, so the check can fail).
3. The objects the series touches compile for x86_64, where
   ZS_OBJ_CLASS_BITS > 0 (arch/x86/configs/x86_64_defconfig plus
   uml-config/x86_64/objects.config, in build/x86_64/).

A stamp keyed on the patches and fragments skips the lot when nothing
changed since the last pass.
"""
from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

from zsbed.core import deps, disk, paths
from zsbed.kernel import configure
from zsbed.kernel.build import build_kernel, run_make
from zsbed.core.errors import ZsbedError
from zsbed.kernel.fetch import Tree
from zsbed.kernel.patch import Patch, patch_tree, select_patches, series_digest, touched_files
from zsbed.core.progress import say

UM_DIR = paths.BUILD / "series-um"
X86_DIR = paths.BUILD / "x86_64"
X86_FRAGMENT = paths.UML_CONFIG / "x86_64" / "objects.config"
FAULT_OPTION = "ZSMALLOC_FAULT_INJECTION"
FAULT_SYMBOL = "should_fail"
STAMP = paths.BUILD / "series-build.json"
# sources the series touches -> the object kbuild makes of each
OBJECTS = {"mm/zsmalloc.c": "mm/zsmalloc.o", "mm/zswap.c": "mm/zswap.o",
           "drivers/block/zram/zram_drv.c": "drivers/block/zram/zram_drv.o"}


def _digest(tree: Tree, patches: list[Patch], frags: list[Path]) -> str:
    h = hashlib.sha256(f"{tree.origin}\0{series_digest(patches)}".encode())
    for f in frags + [X86_FRAGMENT]:
        h.update(f.read_bytes())
    return h.hexdigest()


def undefined_symbols(obj: Path) -> set[str]:
    """Symbols an object file refers to but does not define (``nm -u``)."""
    proc = subprocess.run(["nm", "-u", str(obj)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ZsbedError(f"nm -u {paths.show(obj)}: {proc.stderr.strip()}")
    return {line.split()[-1] for line in proc.stdout.splitlines() if line.strip()}


def objects_touched(patches: list[Patch]) -> list[str]:
    """The objects of OBJECTS whose sources the patches change (all if none)."""
    touched = sorted({f for p in patches for f in OBJECTS if f in touched_files(p)})
    return [OBJECTS[f] for f in touched] or list(OBJECTS.values())


def build_prefixes(tree: Tree, patches: list[Patch], frags: list[Path]) -> Path:
    """Build the tree after each patch; return the fully patched source."""
    src = tree.path
    for k, p in enumerate(patches, 1):
        start = time.monotonic()
        src, digest = patch_tree(tree, patches[:k], "series-build")
        what = f"series-um after {k}/{len(patches)}"
        cdigest = configure.configure(src, f"{src}:{digest}", what, UM_DIR, frags, verify=[])
        try:
            build_kernel(src, UM_DIR, what, cdigest, always=False)
        except ZsbedError as exc:
            raise ZsbedError(f"{p.name}: the series does not build after this patch: "
                             f"{exc}") from None
        say(f"[series-build] {k}/{len(patches)} {p.name}: builds "
            f"({time.monotonic() - start:.0f}s)")
    return src


def check_fault_points(src: Path, digest: str, frags: list[Path]) -> None:
    """zsmalloc.o refers to should_fail() with the fault option on, not with it off."""
    obj = UM_DIR / OBJECTS["mm/zsmalloc.c"]
    if FAULT_SYMBOL not in undefined_symbols(obj):
        raise ZsbedError(f"{paths.show(obj)}: no reference to {FAULT_SYMBOL}() with "
                         f"CONFIG_{FAULT_OPTION}=y: the check below could not fail")
    off = UM_DIR.with_name("series-um-nofault.config")
    disk.write_text(off, f"# CONFIG_{FAULT_OPTION} is not set\n")
    what = f"series-um, {FAULT_OPTION} off"
    cdigest = configure.configure(src, f"{src}:{digest}", what, UM_DIR, frags + [off],
                                  verify=[off])
    build_kernel(src, UM_DIR, what, cdigest, always=False)
    if FAULT_SYMBOL in undefined_symbols(obj):
        raise ZsbedError(f"{paths.show(obj)}: still refers to {FAULT_SYMBOL}() with "
                         f"CONFIG_{FAULT_OPTION} off: the fault points do not compile away")
    say(f"[series-build] fault points compile away: {paths.show(obj)} refers to "
        f"{FAULT_SYMBOL}() only with CONFIG_{FAULT_OPTION}=y")


def build_x86(src: Path, digest: str, patches: list[Patch]) -> None:
    """Compile the objects the series touches for x86_64."""
    objs = objects_touched(patches)
    deps.ensure(x86=True)
    defconfig = src / "arch" / "x86" / "configs" / "x86_64_defconfig"
    configure.configure(src, f"{src}:{digest}", "x86_64", X86_DIR, [defconfig, X86_FRAGMENT],
                        arch="x86_64", verify=[X86_FRAGMENT], base="")
    start = time.monotonic()
    log = X86_DIR / "objects.log"
    try:
        run_make(src, X86_DIR, objs, log, "x86_64 objects", arch="x86_64")
    except ZsbedError as exc:
        raise ZsbedError(f"x86_64: {exc}") from None
    say(f"[series-build] x86_64 (ZS_OBJ_CLASS_BITS > 0): {', '.join(objs)} compile "
        f"({time.monotonic() - start:.0f}s, log: {paths.show(log)})")


def series_build(tree: Tree, series: str | None) -> int:
    """Stage entry point: all three checks, or nothing when nothing changed."""
    patches = select_patches(series)
    if not patches:
        say("[series-build] no patches: nothing to check")
        return 0
    frags = configure.fragments("fast")
    digest = _digest(tree, patches, frags)
    passed = disk.read_state(STAMP, "series-build", ("digest",))
    if passed and passed["digest"] == digest:
        say(f"[series-build] {len(patches)} patches unchanged since the last pass: "
            f"nothing to build")
        return 0
    with disk.writing(STAMP):
        STAMP.unlink(missing_ok=True)
    src = build_prefixes(tree, patches, frags)
    check_fault_points(src, digest, frags)
    build_x86(src, digest, patches)
    disk.write_json(STAMP, {"digest": digest})
    return 0
