"""Stage 3, configure: merge Kconfig fragments and check what survived.

``uml-config/base.config`` plus ``uml-config/<variant>.config`` are merged by
the kernel's ``scripts/kconfig/merge_config.sh`` on top of allnoconfig (only
what the tests need gets built). Afterwards every option a fragment asked for
must be in the final .config with the requested value, as kunit.py checks its
kunitconfig; otherwise the stage fails naming the option and the fragment.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import subprocess
from pathlib import Path

from zsbed.core import disk, paths, textfile
from zsbed.kernel import ktools, target
from zsbed.core.cmdline import cmdline_problem
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say, step
from zsbed.verdict.verdict import bound_problem

BASE = "base"
STAMP = ".zsbed-config.json"


def variants(of: str | None = None) -> list[str]:
    """Names of the variants ``VARIANT=`` accepts (``of``: one target's)."""
    out = sorted(p.stem for p in paths.UML_CONFIG.glob("*.config") if p.stem != BASE)
    out += sorted(p.stem for p in target.QEMU.config_dir.glob(f"{target.QEMU.prefix}*.config"))
    return [v for v in out if of is None or target.of(v).name == of]


def fragments(variant: str) -> list[Path]:
    """The fragments of a variant, in merge order."""
    where = target.of(variant)
    frag = where.fragment(variant)
    if variant == BASE or not frag.is_file():
        raise ZsbedError(f"VARIANT={variant}: no {paths.show(frag)} "
                         f"(variants: {', '.join(variants())})")
    return [*where.bases(), frag]


def uml_only(frags: list[Path] | None = None) -> set[str]:
    """Options only UML has, named by the ``# zsbed-uml-only:`` lines of
    ``frags`` (default: base.config): merged into an x86_64 guest's config
    too, but not required there."""
    names: set[str] = set()
    for frag in frags or [paths.UML_CONFIG / f"{BASE}.config"]:
        for line in textfile.read_text(frag).splitlines():
            m = META.match(line)
            if m and m.group(1) == "uml-only":
                names |= {w.removeprefix("CONFIG_") for w in m.group(2).split()}
    return names


META = re.compile(r"^#\s*zsbed-([a-z-]+):\s*(.*?)\s*$")
EXPECT = re.compile(r"[\w.-]+ (min|max|eq) -?\d+")


def variant_expects(variant: str) -> list[tuple[str, str, int]]:
    """The variant's ``# zsbed-expect:`` lines: (counter, op, value)."""
    out = []
    for line in filter(None, variant_meta(variant).get("expect", "").split(";")):
        counter, op, value = line.split()
        out.append((counter, op, int(value)))
    return out


def variant_meta(variant: str) -> dict[str, str]:
    """``# zsbed-<key>: value`` lines of a variant's fragments (later wins).

    Keys: ``boot`` (kernel command-line arguments), ``timeout-scale`` (factor
    on every program timeout, for slow debug builds), ``make`` (variables
    for kbuild's command line, e.g. per-object GCOV_PROFILE_<obj>=y),
    ``expect`` (``<counter> min|max|eq <n>``: what the main boot must show,
    as a fault scenario's expectations; one per line, ``;``-joined here),
    ``uml-only`` (base.config: options an x86_64 guest does not have).
    """
    meta: dict[str, str] = {}
    for frag in fragments(variant):
        for lineno, line in enumerate(textfile.read_text(frag).splitlines(), 1):
            m = META.match(line)
            if not m:
                continue
            key, value = m.groups()
            if key not in ("boot", "timeout-scale", "make", "uml-only", "expect"):
                raise ZsbedError(f"{paths.show(frag)}:{lineno}: unknown directive 'zsbed-{key}'")
            if key == "timeout-scale":
                try:
                    if not (math.isfinite(float(value)) and float(value) > 0):
                        raise ValueError
                except ValueError:
                    raise ZsbedError(f"{paths.show(frag)}:{lineno}: zsbed-timeout-scale "
                                     f"must be a positive number, not '{value}'") from None
            if key == "make" and not all(re.fullmatch(r"[\w.]+=\S*", v) for v in value.split()):
                raise ZsbedError(f"{paths.show(frag)}:{lineno}: zsbed-make takes "
                                 f"VAR=value words, not '{value}'")
            if key == "expect" and not EXPECT.fullmatch(value):
                raise ZsbedError(f"{paths.show(frag)}:{lineno}: zsbed-expect takes "
                                 f"'<counter> min|max|eq <integer>', not '{value}'")
            if key == "expect" and bound_problem(int(value.split()[2])):
                raise ZsbedError(f"{paths.show(frag)}:{lineno}: zsbed-expect: "
                                 f"{bound_problem(int(value.split()[2]))}")
            bad = [w for w in value.split() if key == "boot" and cmdline_problem(w)]
            if bad:
                raise ZsbedError(f"{paths.show(frag)}:{lineno}: zsbed-boot: {bad[0]!r} "
                                 f"{cmdline_problem(bad[0])}")
            joint = {"boot": " ", "make": " ", "expect": ";"}.get(key)
            meta[key] = f"{meta[key]}{joint}{value}" if joint and key in meta else value
    return meta


def requested(tree: Path, frags: list[Path]) -> dict[str, tuple[str, Path]]:
    """Option -> (value, fragment) over all fragments, later ones winning."""
    kunit_config = ktools.load(tree, "kunit_config")
    wanted: dict[str, tuple[str, Path]] = {}
    for frag in frags:
        text = textfile.read_text(frag)
        try:
            parsed = kunit_config.parse_from_string(text)
        except kunit_config.KconfigParseError as exc:
            bad = str(exc).removeprefix("Failed to parse: ")
            lineno = next((n for n, line in enumerate(text.splitlines(), 1)
                           if line.strip() == bad.strip()), None)
            raise ZsbedError(f"{paths.show(frag)}{f':{lineno}' if lineno else ''}: "
                             f"{exc}") from exc
        for entry in parsed.as_entries():
            wanted[entry.name] = (entry.value, frag)
    return wanted


def missing_options(wanted: dict[str, tuple[str, Path]], final: dict[str, str]) -> list[str]:
    """Describe each requested option the final .config does not have."""
    problems = []
    for name, (value, frag) in wanted.items():
        got = final.get(name, "n")
        if got != value:
            problems.append(f"CONFIG_{name}={value} (from {frag.name}) "
                            f"is {'not set' if got == 'n' else got} in the final .config")
    return problems


def read_config(config: Path, tree: Path) -> dict[str, str]:
    """Parse a .config into option -> value ('n' for 'is not set')."""
    kunit_config = ktools.load(tree, "kunit_config")
    return {e.name: e.value for e in kunit_config.parse_file(str(config)).as_entries()}


def config_digest(frags: list[Path], source_digest: str) -> str:
    h = hashlib.sha256(source_digest.encode())
    for frag in frags:
        h.update(frag.name.encode() + b"\0" + frag.read_bytes())
    return h.hexdigest()


def configure(src: Path, source_digest: str, variant: str, bdir: Path,
              frags: list[Path] | None = None, arch: str = "um",
              verify: list[Path] | None = None, base: str = "-n") -> str:
    """Stage entry point: write ``bdir/.config``; return the config digest.

    ``frags`` replaces the variant's fragments (make bench builds kernels
    that are not variants of zsbed's own base). Only the options of the
    ``verify`` fragments (default: all) must survive; ``base`` is
    merge_config.sh's base: ``-n`` allnoconfig, ``""`` alldefconfig.
    """
    frags = frags or fragments(variant)
    verify = frags if verify is None else verify
    if (arch, base) != ("um", "-n"):
        source_digest = f"{source_digest}:{arch}:{base}"
    digest = config_digest(frags, source_digest)
    stamp = bdir / STAMP
    config = bdir / ".config"
    done = disk.read_state(stamp, "configure", ("digest",)) if config.is_file() else None
    if done and done["digest"] == digest:
        say(f"[configure] {variant}: fragments unchanged")
        return digest
    wanted = requested(src, verify)
    if arch != "um":
        for name in uml_only(frags):
            wanted.pop(name, None)
    with step("configure", f"{variant}: merge_config.sh {base + ' ' if base else ''}"
              + " ".join(f.name for f in frags)), disk.writing(bdir):
        # no stamp until the new .config is complete: a run cut short redoes it
        stamp.unlink(missing_ok=True)
        bdir.mkdir(parents=True, exist_ok=True)
        log = bdir / "configure.log"
        with log.open("w") as out:
            proc = subprocess.run(
                ["bash", "scripts/kconfig/merge_config.sh", *([base] if base else []),
                 "-O", str(bdir), *map(str, frags)],
                cwd=src, env={**os.environ, "ARCH": arch}, stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            disk.check_full(log.read_text(errors="replace"), bdir)
            raise ZsbedError(f"configure: merge_config.sh failed (log: {log})")
        problems = missing_options(wanted, read_config(config, src))
        if problems:
            raise ZsbedError(f"configure: {problems[0]}"
                             + (f" (+{len(problems) - 1} more, see {log})" if len(problems) > 1 else ""))
        disk.write_json(stamp, {"digest": digest})
    return digest
