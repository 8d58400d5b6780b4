"""Stage 4, build: the UML kernel, the guest init and the selftests.

The kernel is built out of tree in ``build/<variant>/`` with ``-j$(nproc)``
and ccache when present. When zsbed owns the source tree and neither the
patches nor the config changed since the last successful build, make is not
run at all. A user's KSRC tree always goes through make (kbuild itself then
decides what, if anything, to rebuild).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from zsbed.core import disk, paths, textfile
from zsbed.kernel import target
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say, step

STAMP = ".zsbed-build.json"
PROGRESS_EVERY = 20.0
MAKE_CLEANUP = 30.0      # seconds make may take to clean up after Ctrl-C


@dataclass(frozen=True)
class Kernel:
    """A built kernel: UML's ``linux``, or an x86_64 guest's bzImage."""

    bdir: Path
    variant: str

    @property
    def target(self) -> target.Target:
        return target.of(self.variant)

    @property
    def linux(self) -> Path:
        """The image to boot."""
        return self.bdir / self.target.image

    @property
    def config(self) -> Path:
        return self.bdir / ".config"

    def has(self, option: str) -> bool:
        """True if CONFIG_<option>=y in the built config."""
        return f"\nCONFIG_{option}=y\n" in "\n" + self.config.read_text()


def make_vars(arch: str = "um") -> list[str]:
    """ARCH, CC (through ccache when present) and parallelism."""
    cc = "ccache gcc" if shutil.which("ccache") else "gcc"
    return [f"ARCH={arch}", f"CC={cc}", f"HOSTCC={cc}", f"-j{os.cpu_count() or 1}"]


def ccache_env() -> dict[str, str]:
    """Let ccache hit across clones: paths under the repo hash as relative."""
    return {**os.environ, "CCACHE_BASEDIR": str(paths.REPO), "CCACHE_NOHASHDIR": "true"}


def first_error(log: Path) -> str:
    """The first compiler or make error in a build log."""
    for line in log.read_text(errors="replace").splitlines():
        if re.search(r"(error:|Error \d+|undefined reference)", line):
            return line.strip()
    return "make failed"


def _watch(log: Path, done: threading.Event, what: str) -> None:
    start = time.monotonic()
    while not done.wait(PROGRESS_EVERY):
        try:
            text = log.read_text(errors="replace")
        except OSError:
            continue
        objs = len(re.findall(r"(?m)^\s+(CC|AS|LD)\s", text))
        say(f"[build] {what}: {time.monotonic() - start:.0f}s, {objs} objects so far")


def make(cmd: list[str], out: IO[str], env: dict[str, str] | None = None) -> int:
    """Run make with its output to ``out``; its exit status.

    On Ctrl-C (or SIGTERM to zsbed) make is told to stop (SIGTERM) and
    given MAKE_CLEANUP seconds to do so: it stops its jobs and deletes the
    targets they were writing. Killed at once, it would leave half-written
    objects newer than their sources, which the next run takes as built.
    """
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env)
    try:
        return proc.wait()
    except BaseException:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=MAKE_CLEANUP)
        except BaseException:            # it hangs, or a second Ctrl-C
            proc.kill()
            proc.wait()
        raise


def run_make(src: Path, bdir: Path, targets: list[str], log: Path, what: str,
             extra: list[str] | None = None, arch: str = "um") -> None:
    """Run kbuild with output to ``log`` and a progress line every 20 s."""
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(log, done, what), daemon=True)
    with disk.writing(log), log.open("w") as out:
        watcher.start()
        try:
            code = make(["make", "-C", str(src), f"O={bdir}", *make_vars(arch),
                         *(extra or []), *targets], out, ccache_env())
        finally:
            done.set()
    if code != 0:
        disk.check_full(log.read_text(errors="replace"), bdir)
        raise ZsbedError(f"build: {first_error(log)} (log: {paths.show(log)})")


def build_kernel(src: Path, bdir: Path, variant: str, digest: str, always: bool,
                 make_vars: tuple[str, ...] = ()) -> Kernel:
    """Stage entry point for the kernel; ``digest`` names patches + config.

    ``make_vars`` go on kbuild's command line (a variant's ``# zsbed-make:``);
    they are part of the fragments, so ``digest`` covers them.
    """
    kernel = Kernel(bdir=bdir, variant=variant)
    stamp = bdir / STAMP
    built = (disk.read_state(stamp, "build", ("digest",))
             if not always and kernel.linux.is_file() else None)
    if built and built["digest"] == digest:
        say(f"[build] {variant}: nothing changed, not running make")
        return kernel
    what = kernel.target.make_target
    with step("build", f"{variant}: make {what} in {paths.show(bdir)}"):
        # no stamp until make has finished: a build cut short runs make again
        with disk.writing(stamp):
            stamp.unlink(missing_ok=True)
        run_make(src, bdir, [what], bdir / "build.log", variant, list(make_vars),
                 arch=kernel.target.arch)
    disk.write_json(stamp, {"digest": digest})
    return kernel


def build_guest() -> Path:
    """The static init program the UML boots into."""
    out = paths.BUILD / "guest" / "zsbed-init"
    source = paths.GUEST_SRC / "init.c"
    if out.is_file() and out.stat().st_mtime >= source.stat().st_mtime:
        return out
    # built under another name and renamed: a link cut short never looks up to date
    tmp = out.with_name(out.name + ".tmp")
    with disk.writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["gcc", "-static", "-O2", "-Wall", "-Werror", "-o", str(tmp),
                               str(source)], capture_output=True, text=True)
        if proc.returncode != 0:
            tmp.unlink(missing_ok=True)
            disk.check_full(proc.stderr, out.parent)
            raise ZsbedError(f"{paths.show(source)}: does not compile: "
                             f"{(proc.stderr.strip().splitlines() or ['?'])[0]}")
        os.replace(tmp, out)
    return out


SELFTESTS_OUT = paths.BUILD / "selftests" / "zsmalloc"
PROGS_VAR = re.compile(r"(?m)^TEST_GEN_PROGS(?:_EXTENDED)?\s*[:+]?=(.*)$")


def selftest_programs() -> dict[str, Path]:
    """Name -> path of each program build_selftests will build, read from
    selftests/zsmalloc/Makefile without building (to check plans before)."""
    makefile = paths.SELFTESTS / "zsmalloc" / "Makefile"
    text = textfile.read_text(makefile).replace("\\\n", " ")
    names = [n for m in PROGS_VAR.finditer(text) for n in m.group(1).split()]
    if not names:
        raise ZsbedError(f"{paths.show(makefile)}: no TEST_GEN_PROGS")
    return {n: SELFTESTS_OUT / n for n in names}


def build_selftests(src: Path) -> list[Path]:
    """Build selftests/zsmalloc with the kernel's lib.mk; return the programs."""
    out = SELFTESTS_OUT
    log = out / "build.log"
    with disk.writing(out):
        out.mkdir(parents=True, exist_ok=True)
        with log.open("w") as fh:
            code = make(["make", "-C", str(paths.SELFTESTS / "zsmalloc"), f"KSRC={src}",
                         f"OUTPUT={out}"], fh)
    if code != 0:
        disk.check_full(log.read_text(errors="replace"), out)
        raise ZsbedError(f"selftests/zsmalloc: {first_error(log)} (log: {paths.show(log)})")
    listing = subprocess.run(["make", "-s", "--no-print-directory", "-C",
                              str(paths.SELFTESTS / "zsmalloc"), f"KSRC={src}",
                              f"OUTPUT={out}", "print-progs"], capture_output=True, text=True)
    progs = [Path(p) for p in listing.stdout.split()]
    missing = [p for p in progs if not p.is_file()]
    if listing.returncode != 0 or not progs or missing:
        raise ZsbedError("selftests/zsmalloc: built programs not found "
                         f"({missing or listing.stderr.strip()})")
    return progs
