"""``make bench``: the series' munmap table, on three kernels side by side.

Under UML (the default):

- ``fallback``: the tree as it is (7.3: ZS_OBJ_CLASS_BITS == 0 under UML,
  zs_free() takes pool->lock);
- ``classbits``: plus zsbed's patch that encodes the class index under UML
  (the lockless class lookup that 7.3 merged for real hardware);
- ``deferred``: classbits plus the series under test (zs_free_deferred()).

With ``TARGET=qemu``, x86_64 guests under KVM, the mirror image. All
three carry the UML class-bits patch, whose option is UML-only (0012 is
written next to it):

- ``fallback``: plus zsbed's patch that builds zsmalloc without the class
  index (ZSMALLOC_NO_CLASS_BITS, set), so zs_free() takes pool->lock;
- ``classbits``: x86_64's native encoding, as 7.3 builds it;
- ``deferred``: classbits plus the series under test.

TCG is refused: an emulated CPU's timings say nothing about the series.

All three come from ``uml-config/bench/`` (non-debug SMP, nothing else of
zsbed's; under QEMU merged with the guest's ``x86_64/base.config``) and
differ only in their patches (and, under QEMU, fallback in the option
its patch adds). Each round boots every kernel
once (A B C, A B C, ...) and runs ``bench_munmap`` for every mode and
process count; ``bench_report`` turns the samples into the table and plot.
"""
from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsbed.kernel import kernelset
from zsbed.verdict.outcome import Outcome
from zsbed.bench import bench_report
from zsbed.core import disk, paths
from zsbed.machine import qemu
from zsbed.plan import fault
from zsbed.kernel.build import Kernel, build_guest, build_selftests
from zsbed.core.errors import ZsbedError
from zsbed.kernel.fetch import Tree
from zsbed.kernel.patch import Patch, parse_series
from zsbed.core.progress import say
from zsbed.plan.program import Program
from zsbed.plan.run import run_boot
from zsbed.kernel.target import QEMU, UML, Target

BENCH_CONFIG = paths.UML_CONFIG / "bench"
KERNELS = ("fallback", "classbits", "deferred")
CLASSBITS_PATCH = "mm-zsmalloc-let-UML-encode-the-class-index"
NO_CLASSBITS_PATCH = "mm-zsmalloc-let-tests-force-the-pool-lock-lookup"
MODES = ("munmap", "exit")
PROCS = (1, 2, 4)
SAMPLE = re.compile(r"^# bench (\w+) (-?[\d.]+)\s*$", re.M)


@dataclass(frozen=True)
class Settings:
    mib: int
    rounds: int
    procs: tuple[int, ...] = PROCS
    modes: tuple[str, ...] = MODES

    @property
    def mem(self) -> str:
        """UML memory: everything mapped at once fits, so only MADV_PAGEOUT swaps."""
        return f"mem={max(512, max(self.procs) * self.mib * 2 + 256)}M"


def settings(quick: bool, mib: int | None, rounds: int | None) -> Settings:
    """Full: the published 256 MiB per process, 5 rounds. QUICK: 32 MiB, 3."""
    s = Settings(mib=(32 if quick else 256) if mib is None else mib,
                 rounds=(3 if quick else 5) if rounds is None else rounds)
    if s.mib <= 0 or s.rounds <= 0:
        raise ZsbedError(f"bench: MIB and ROUNDS must be positive (got {s.mib}, {s.rounds})")
    return s


def _one(instrumentation: list[Patch], name: str) -> list[Patch]:
    found = [p for p in instrumentation if name in p.name]
    if len(found) != 1:
        raise ZsbedError(f"patches/series: no single patch named *{name}*")
    return found


def kernel_patches(series: str | None, where: Target = UML) -> dict[str, list[Patch]]:
    """The patches of each kernel; SERIES= replaces the series in 'deferred'."""
    under_test = kernelset.series_alone(series, "bench", "'deferred' would equal 'classbits'")
    _, instrumentation = parse_series(paths.PATCHES / "series")
    classbits = _one(instrumentation, CLASSBITS_PATCH)
    if where is QEMU:
        # 0012 is written next to 0008's option, which is UML-only (inert
        # on x86_64): all three carry 0008, fallback also 0012
        return {"fallback": classbits + _one(instrumentation, NO_CLASSBITS_PATCH),
                "classbits": classbits, "deferred": under_test + classbits}
    return {"fallback": [], "classbits": classbits, "deferred": under_test + classbits}


def fragments(name: str, where: Target = UML) -> list[Path]:
    """The Kconfig fragments of one bench kernel."""
    frags = [BENCH_CONFIG / "bench.config"]
    if where is QEMU:
        frags.append(QEMU.config_dir / "base.config")
        if name == "fallback":
            frags.append(QEMU.config_dir / "bench-fallback.config")
    elif name != "fallback":
        frags.append(BENCH_CONFIG / "classbits.config")
    return frags


def refuse_tcg(accel: qemu.Accel) -> None:
    """make bench TARGET=qemu times KVM guests only."""
    if accel.name != "kvm":
        raise ZsbedError(f"bench TARGET=qemu: refused under TCG ({accel.why}): an emulated "
                         f"CPU's timings mean nothing; run it where KVM works (make qemu-test "
                         f"still checks correctness under TCG)")


def precheck(where: Target) -> None:
    """Refuse before building when KVM cannot work here (or ACCEL=tcg)."""
    if where is not QEMU:
        return
    forced = os.environ.get("ZSBED_ACCEL") or ""
    if forced == "tcg":
        refuse_tcg(qemu.tcg("ACCEL=tcg"))
    why = qemu.kvm_unusable() or qemu.host_note().removeprefix("; ")
    if why and forced != "kvm":
        refuse_tcg(qemu.tcg(why))


def build_kernels(tree: Tree, series: str | None,
                  where: Target = UML) -> dict[str, tuple[Path, Kernel]]:
    """Patch and build the three kernels (each in build/<prefix>bench-<name>)."""
    return kernelset.build(tree, [kernelset.Member(name, f"{where.prefix}bench-{name}", patches,
                                                   fragments(name, where), where.arch)
                                  for name, patches in kernel_patches(series, where).items()],
                           "bench")


def plan(s: Settings, program: Path) -> list[Program]:
    """One boot: every mode and process count, in a fixed order."""
    return [Program(f"bench.{mode}.n{n}",
                    (str(program), "-n", str(n), "-m", str(s.mib), "-x", mode), 300)
            for mode in s.modes for n in s.procs]


def samples(ktap_dir: Path, rnd: int, kernel: str, programs: list[Program]) -> list[dict[str, Any]]:
    """The samples of one boot; a run that did not report all four values is left out."""
    out = []
    for prog in programs:
        f = ktap_dir / f"{prog.name}.ktap"
        text = f.read_text(errors="replace") if f.is_file() else ""
        values = {k: float(v) for k, v in SAMPLE.findall(text)}
        if not {"release_ms", "release_max_ms", "drain_ms", "cpu_ms"} <= values.keys() \
                or min(values.values()) < 0:
            say(f"[bench] round {rnd}, {kernel}, {prog.name}: no complete result, left out")
            continue
        _, mode, n = prog.name.split(".")
        out.append({"round": rnd, "kernel": kernel, "mode": mode, "procs": int(n[1:]), **values,
                    **queue_counters(text)})
    return out


def queue_counters(text: str) -> dict[str, int]:
    """zram0's deferred-queue counters from a run's output, if it printed them."""
    queue: dict[str, int] = next((q for pool, q in fault.deferred_queues(text) if pool == "zram0"), {})
    return {k: queue[k] for k in bench_report.QUEUE if k in queue}


def measure(tree: Tree, series: str | None, s: Settings, out: Path, where: Target = UML) -> Path:
    """Build, run the interleaved rounds, write bench.json, .md and .png in ``out``."""
    kernels = build_kernels(tree, series, where)
    machine = "UML"
    if where is QEMU:
        for _, k in kernels.values():
            refuse_tcg(qemu.accel(k.linux))
        machine = "KVM x86_64"
    init = build_guest()
    # the selftests are built from the deferred tree (any tree would do)
    progs = {p.name: p for p in build_selftests(kernels["deferred"][0])}
    programs = plan(s, progs["bench_munmap"])
    timeout = sum(p.timeout for p in programs) + 30
    data: dict[str, Any] = {
        "machine": f"{platform.system()} {platform.machine()}, {_cores()} cores, {_mem_gib()} GiB",
        "kernel": tree.kernel, "mib": s.mib, "rounds": s.rounds, "ncpus": 2,
        "target": machine,
        "kernels": list(KERNELS), "modes": list(s.modes), "procs": list(s.procs),
        "samples": [], "failed_boots": []}
    for rnd in range(1, s.rounds + 1):
        for name in KERNELS:
            src, kernel = kernels[name]
            say(f"[bench] round {rnd}/{s.rounds}: {name}")
            boot = f"r{rnd}.{name}"
            cases = run_boot(src, kernel, init, programs, out, boot, timeout, [s.mem])
            if any(c.outcome == Outcome.FAILED and c.name.startswith(("boot.", "dmesg.")) for c in cases):
                data["failed_boots"].append(boot)
            data["samples"] += samples(out / "ktap" / boot, rnd, name, programs)
    path = out / "bench.json"
    disk.write_json(path, data)
    bench_report.render(path, out)
    return path


def _cores() -> int:
    return os.cpu_count() or 1


def _mem_gib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 2**20)
    return 0
