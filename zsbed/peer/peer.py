"""``make peer``: upstream's own zram and cgroup selftests, on two kernels.

- ``base``: the fetched 7.3 tree, no patches;
- ``series``: the series under test (``patches/series`` above the zsbed
  marker, or ``SERIES=``), none of zsbed's instrumentation.

Both are built from the same fragments (``uml-config/bench/bench.config``,
the suites' own ``config`` files from the tree, ``uml-config/peer/peer.config``)
and boot the same plan: upstream's tests, built and installed from the
fetched tree by the kselftest build system and run unchanged from a copy in
the guest's scratch tmpfs (``selftests/peer/run_upstream``), with each
collection's kselftest timeout. Every upstream case is compared across the
two kernels by ``verdict.peer_cases``; the known upstream failures are in
``selftests/peer/upstream-failures.toml``.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsbed.kernel import kernelset
from zsbed.core import mdtable
from zsbed.verdict.outcome import Outcome, upstream
from zsbed.core import disk, paths, tomlfile
from zsbed.verdict import verdict
from zsbed.kernel.build import Kernel, first_error, make
from zsbed.core.errors import ZsbedError
from zsbed.kernel.fetch import Tree
from zsbed.plan.parse import Case
from zsbed.kernel.patch import Patch
from zsbed.core.progress import step
from zsbed.plan.program import Program
from zsbed.plan.run import run_boot

KERNELS = ("base", "series")
PEER_CONFIG = paths.UML_CONFIG / "peer" / "peer.config"
BENCH_CONFIG = paths.UML_CONFIG / "bench" / "bench.config"
RUNNER = paths.SELFTESTS / "peer" / "run_upstream"
FAILURES = verdict.PEER_FAILURES
OUT = paths.BUILD / "peer"
KSFT_TIMEOUT = 45            # kselftest's runner default, when a collection has no settings
# UML forks and execs far slower than a real machine: zram01
# (1900 dd processes) took 32-65 s here, against zram.sh's 45 s. The collection's
# timeout, times this, is what a test gets; a test still running then is
# killed and its partial output kept, as the kselftest runner would.
UML_TIMEOUT_SCALE = 3
BOOT_SLACK = 30


@dataclass(frozen=True)
class Suite:
    """One upstream test program: ``tools/testing/selftests/<collection>/<test>``."""

    collection: str
    test: str
    ktap: bool              # prints KTAP (else zram.sh's "zramNN : [PASS]" lines)

    @property
    def id(self) -> str:
        """The case prefix: ``zram`` for zram.sh, ``cgroup.test_zswap``."""
        return self.collection if self.test.endswith(".sh") else f"{self.collection}.{self.test}"

    @property
    def program(self) -> str:
        """The plan entry's name (one word, no '/')."""
        return self.id.replace(".", "_")


SUITES = (Suite("zram", "zram.sh", ktap=False),
          Suite("cgroup", "test_zswap", ktap=True),
          Suite("cgroup", "test_memcontrol", ktap=True),
          Suite("mm", "cow", ktap=True))
COLLECTIONS = tuple(dict.fromkeys(s.collection for s in SUITES))
# after zram.sh (which makes its own devices) and before the cgroup tests:
# lo up, a zram swap device with zswap in front, which they expect to find
SETUP = ("-z", "-m", "512")
DISK_SIZE = "1G"         # the guest's ext4 disk (sparse; test_memcontrol writes 100 MiB)

# upstream tests that were looked at and do not run here, and why
NOT_RUN = {
    "mm: migration": "needs two NUMA nodes; UML has no NUMA",
    "mm: compaction_test": "needs HugeTLB pages; UML has no HugeTLB",
    "mm: khugepaged, split_huge_page_test, the THP and hugetlb cases of cow": "UML has "
    "neither THP nor HugeTLB (cow leaves those cases out of its plan)",
    "cgroup: test_kmem, test_core, ...": "not about swap, zram or zswap",
}


def kernel_patches(series: str | None) -> dict[str, list[Patch]]:
    """The patches of each kernel: none, and the series without zsbed's own."""
    return {"base": [], "series": kernelset.series_alone(series, "peer",
                                                         "'series' would equal 'base'")}


def suite_fragments(tree: Path) -> list[Path]:
    """The suites' own config files, copied under their collection's name
    (so that a message names ``zram.config``, not ``config``)."""
    frags = []
    for col in COLLECTIONS:
        src = tree / "tools" / "testing" / "selftests" / col / "config"
        if not src.is_file():
            raise ZsbedError(f"{paths.show(src)}: missing (the tree has no {col} selftests?)")
        dst = OUT / "fragments" / f"{col}.config"
        if not dst.is_file() or dst.read_bytes() != src.read_bytes():
            dst.parent.mkdir(parents=True, exist_ok=True)
            disk.write_text(dst, src.read_text())
        frags.append(dst)
    return frags


def fragments(tree: Path) -> list[Path]:
    return [BENCH_CONFIG, *suite_fragments(tree), PEER_CONFIG]


def build_kernels(tree: Tree, series: str | None) -> dict[str, tuple[Path, Kernel]]:
    """Patch, configure and build both kernels (build/peer-<name>)."""
    frags = fragments(tree.path)
    return kernelset.build(tree, [kernelset.Member(name, f"peer-{name}", patches, frags)
                                  for name, patches in kernel_patches(series).items()], "peer")


def install_selftests(tree: Path) -> Path:
    """Build and install the collections with the kselftest build system."""
    inst = OUT / "kselftest"
    log = OUT / "kselftest-build.log"
    with disk.writing(OUT), step("peer", f"kselftest install: {' '.join(COLLECTIONS)}"):
        OUT.mkdir(parents=True, exist_ok=True)
        if inst.exists():
            shutil.rmtree(inst)
        with log.open("w") as fh:
            code = make(["make", "-C", str(tree / "tools" / "testing" / "selftests"),
                         f"TARGETS={' '.join(COLLECTIONS)}", f"O={OUT / 'kselftest-build'}",
                         f"INSTALL_PATH={inst}", "install"], fh)
    if code != 0:
        disk.check_full(log.read_text(errors="replace"), OUT)
        raise ZsbedError(f"peer: kselftest build: {first_error(log)} (log: {paths.show(log)})")
    for s in SUITES:
        if not (inst / s.collection / s.test).is_file():
            raise ZsbedError(f"peer: kselftest install has no {s.collection}/{s.test} "
                             f"(log: {paths.show(log)})")
    return inst


def timeout(tree: Path, collection: str) -> int:
    """The collection's kselftest timeout (``timeout=`` in its settings, or 45 s),
    scaled for UML."""
    settings = tree / "tools" / "testing" / "selftests" / collection / "settings"
    m = re.search(r"(?m)^timeout=(\d+)\s*$", settings.read_text()) if settings.is_file() else None
    return (int(m.group(1)) if m else KSFT_TIMEOUT) * UML_TIMEOUT_SCALE


def plan(tree: Path, inst: Path, setup: Path, kernel: str) -> list[Program]:
    """One boot: zram.sh, the set-up, then the cgroup and mm tests."""
    progs: list[Program] = []
    for s in SUITES:
        if s.collection != "zram" and not any(p.name.endswith(".setup") for p in progs):
            progs.append(Program(f"peer.{kernel}.setup", (str(setup), *SETUP), 60))
        progs.append(Program(f"peer.{kernel}.{s.program}",
                             (str(RUNNER), str(inst), s.collection, s.test),
                             timeout(tree, s.collection)))
    return progs


ZRAM_VERDICT = re.compile(r"(?m)^(zram\d+) : \[(PASS|FAIL)\]\s*$")


def zram_cases(text: str) -> dict[str, tuple[str, str]]:
    """zram.sh's cases (zram01, zram02) from its "zramNN : [PASS]" lines.

    zram.sh's exit status is always 0 and some of zram_lib.sh's "FAIL"
    lines do not set its ERR_CODE; upstream's verdict is the [PASS]/[FAIL]
    line, and so is this one. The FAIL lines are kept in the message."""
    out: dict[str, tuple[str, str]] = {}
    fails = [ln.strip() for ln in text.splitlines() if ln.startswith("FAIL")]
    for name, word in ZRAM_VERDICT.findall(text):
        out[name] = (upstream(word),
                     "; ".join(fails[:3]) if word == "FAIL" else "")
    for name in ("zram01", "zram02"):
        out.setdefault(name, (Outcome.ERROR, "no [PASS]/[FAIL] line: did not finish"))
    return out


def case_word(name: str) -> str:
    """An upstream case name as one word of a case id: cow's "Basic COW after
    fork() with base page" becomes Basic_COW_after_fork_with_base_page."""
    return "_".join(re.findall(r"[A-Za-z0-9_+-]+", name))


def kernel_outcomes(cases: list[Case], kernel: str, ktap_dir: Path) -> dict[str, tuple[str, str]]:
    """Upstream case id -> (outcome, message) on one kernel."""
    out: dict[str, tuple[str, str]] = {}
    for s in SUITES:
        prefix = f"peer.{kernel}.{s.program}"
        if s.ktap:
            for c in cases:
                if (c.name == prefix or c.name.startswith(prefix + ".")) \
                        and c.name != f"{prefix}.exit":
                    rest = case_word(c.name[len(prefix):].lstrip("."))
                    out[f"{s.id}.{rest}" if rest else s.id] = (c.outcome, c.message)
        else:
            f = ktap_dir / f"{prefix}.ktap"
            for name, res in zram_cases(f.read_text(errors="replace") if f.is_file() else "").items():
                out[f"{s.id}.{name}"] = res
        ran = next((c for c in cases if c.name == f"{prefix}.exit"), None)
        # a KTAP suite's exit status only sums up its cases; it counts on
        # its own when the program did not finish or printed no case
        if ran is not None and (not s.ktap or ran.outcome == Outcome.ERROR
                                or not any(k.startswith(s.id + ".") for k in out)):
            out[f"{s.id}.exit"] = (ran.outcome, ran.message)
    return out


def load_failures(path: Path = FAILURES) -> dict[str, verdict.Known]:
    """Known upstream failures: case id -> why, and whether it fails every
    time or only sometimes (``flaky = true``)."""
    data = tomlfile.read(path)
    known: dict[str, verdict.Known] = {}
    for i, entry in enumerate(data.get("failure", []), 1):
        where = f"{paths.show(path)}: [[failure]] #{i}"
        if not isinstance(entry, dict) or not {"case", "reason"} <= set(entry) \
                or not set(entry) <= {"case", "reason", "flaky"}:
            raise ZsbedError(f"{where}: needs 'case' and 'reason' (and may have 'flaky')")
        if not all(isinstance(entry[k], str) and entry[k].strip() for k in ("case", "reason")):
            raise ZsbedError(f"{where}: 'case' and 'reason' must be non-empty strings")
        if not isinstance(entry.get("flaky", False), bool):
            raise ZsbedError(f"{where}: 'flaky' must be true or false")
        if entry["case"] in known:
            raise ZsbedError(f"{where}: {entry['case']} listed twice")
        known[entry["case"]] = verdict.Known(entry["reason"], entry.get("flaky", False))
    unknown = set(data) - {"failure"}
    if unknown:
        raise ZsbedError(f"{paths.show(path)}: unknown key(s) {', '.join(sorted(unknown))}")
    return known


def table(rows: list[dict[str, Any]], seconds: dict[str, dict[str, float | None]]) -> str:
    """peer.md: the two kernels side by side, then each suite's time."""
    lines = mdtable.table(["case", "base", "series", "verdict"],
                          [(f"`{r['case']}`", r["base"], r["series"],
                            r["verdict"] + (": " + r["why"] if r["why"] else "")) for r in rows])
    lines += ["", *mdtable.table(
        ["suite", "base (s)", "series (s)"],
        [(f"`{suite}`", *(f"{per[k]:.1f}" if per.get(k) is not None else "-" for k in KERNELS))
         for suite, per in seconds.items()], right={1, 2})]
    lines += ["", "Not run (and why):", ""]
    lines += [f"- {what}: {why}" for what, why in NOT_RUN.items()]
    return "\n".join(lines) + "\n"


def make_disk(path: Path) -> Path:
    """A fresh ext4 image for the guest's /dev/ubda (the host's mkfs.ext4)."""
    with disk.writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        proc = subprocess.run(["truncate", "-s", DISK_SIZE, str(path)], capture_output=True,
                              text=True)
        if proc.returncode == 0:
            proc = subprocess.run(["mkfs.ext4", "-q", "-F", str(path)], capture_output=True,
                                  text=True)
    if proc.returncode != 0:
        disk.check_full(proc.stderr, path.parent)
        raise ZsbedError(f"{paths.show(path)}: mkfs.ext4: "
                         f"{(proc.stderr.strip().splitlines() or ['no message'])[-1]}")
    return path


def compare(tree: Tree, series: str | None, known: dict[str, verdict.Known], setup: Path,
            init: Path, results: Path) -> list[Case]:
    """Build both kernels, boot each once; the boots' own cases plus one
    verdict case per upstream case (``known``: ``load_failures()``)."""
    kernels = build_kernels(tree, series)
    inst = install_selftests(tree.path)
    boot_cases: list[Case] = []
    outcomes: dict[str, dict[str, tuple[str, str]]] = {}
    seconds: dict[str, dict[str, float | None]] = {s.id: {} for s in SUITES}
    for name in KERNELS:
        src, kernel = kernels[name]
        programs = plan(tree.path, inst, setup, name)
        image = make_disk(OUT / f"disk-{name}.img")
        try:
            cases = run_boot(src, kernel, init, programs, results, f"peer.{name}",
                             sum(p.timeout for p in programs) + BOOT_SLACK,
                             [f"ubd0={image}"], kunit=False, expected_skips=False)
        finally:
            image.unlink(missing_ok=True)
        outcomes[name] = kernel_outcomes(cases, name, results / "ktap" / f"peer.{name}")
        for s in SUITES:
            ran = next((c for c in cases if c.name == f"peer.{name}.{s.program}.exit"), None)
            seconds[s.id][name] = ran.duration if ran else None
        # the boot, its dmesg and zsbed's own set-up are zsbed's cases as they are
        boot_cases += [c for c in cases if c.name.startswith(("boot.", "dmesg."))
                       or c.name.startswith(f"peer.{name}.setup")]
    verdicts, rows = verdict.peer_cases(outcomes["base"], outcomes["series"], known)
    (results / "peer").mkdir(parents=True, exist_ok=True)
    disk.write_json(results / "peer" / "peer.json",
                    {"rows": rows, "seconds": seconds, "not_run": NOT_RUN})
    disk.write_text(results / "peer" / "peer.md", table(rows, seconds))
    return boot_cases + verdicts
