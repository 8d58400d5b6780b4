"""The boots a command asks for, on a prepared kernel: the selftest plan
(with KUnit), a fault scenario, KUnit alone; each returns its cases,
expectations included.

Timeouts: a plan's programs are scaled by the variant's ``timeout-scale``
and the accelerator's factor; a scenario's by the accelerator's only.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from zsbed.core import paths
from zsbed.kernel import configure, prepared
from zsbed.kernel.build import Kernel
from zsbed.kernel.patch import Patch
from zsbed.plan import fault, plan
from zsbed.plan.parse import Case
from zsbed.plan.program import Program
from zsbed.plan.run import run_boot
from zsbed.verdict import verdict

BOOT_SLACK = 30          # seconds a boot may take beyond its programs' timeouts
KUNIT_TIMEOUT = 180      # a KUnit-only boot (the mutation baseline's)
# Rewrites a boot's plan (programs, name of what ran before the first);
# coverage uses it to collect the counters of each phase.
Wrap = Callable[[list[Program], str], list[Program]]


def accel_scale(kernel: Kernel) -> float:
    """The accelerator's factor on timeouts: 1 under UML."""
    if kernel.target.name != "qemu":
        return 1.0
    from zsbed.machine import qemu
    return qemu.accel(kernel.linux).timeout_scale


def timeout_scale(kernel: Kernel) -> float:
    """The factor on every plan program's timeout: the variant's
    ``timeout-scale``, times the accelerator's for a QEMU guest."""
    return float(configure.variant_meta(kernel.variant).get("timeout-scale", 1)) \
        * accel_scale(kernel)


def selftest_cases(prep: prepared.Prepared, variant: str, results: Path,
                   timeout: float | None, wrap: Wrap | None = None,
                   limit: float | None = None) -> list[Case]:
    """One boot running KUnit and the selftest plan (through ``wrap``); its cases.
    ``limit``: a shorter time limit for the boot."""
    meta = configure.variant_meta(variant)
    programs = plan.load(paths.SELFTESTS / "zsmalloc" / "plan.toml", variant,
                         {p.name: p for p in prep.selftests}, timeout_scale(prep.kernel))
    programs = wrap(programs, "kunit") if wrap else programs
    timeout = timeout or sum(p.timeout for p in programs) + BOOT_SLACK
    timeout = min(timeout, limit) if limit else timeout
    cases = run_boot(prep.src, prep.kernel, prep.init, programs, results, "main", timeout,
                     meta.get("boot", "").split())
    expects = [verdict.Expect(c, op, v) for c, op, v in configure.variant_expects(variant)]
    if expects:
        console = results / "dmesg" / "main.log"
        text = console.read_text(errors="replace") if console.is_file() else ""
        cases += verdict.expectation_cases("main", expects, fault.counters([text]), prefix="")
    return cases


def scenario_cases(req: prepared.Request, scenario: fault.Scenario,
                   results: Path, extra: tuple[Patch, ...] = (),
                   wrap: Wrap | None = None) -> list[Case]:
    """Build the scenario's variant (the request's, or the one the scenario
    names on the request's target) and boot it once; its cases."""
    variant = req.variant or fault.variant_for(scenario, req.target)
    return scenario_boot(prepared.prepare(req.at(variant), extra), variant, scenario,
                         results, wrap)


def scenario_boot(prep: prepared.Prepared, variant: str, scenario: fault.Scenario,
                  results: Path, wrap: Wrap | None = None,
                  limit: float | None = None) -> list[Case]:
    """Boot a built kernel once on the scenario's plan (through ``wrap``): its
    cases and its expectations. ``limit``: a shorter time limit for the boot."""
    # scenario timeouts were never scaled by the variant: only the accelerator
    programs = fault.programs(scenario, {p.name: p for p in prep.selftests},
                              accel_scale(prep.kernel))
    programs = wrap(programs, "boot") if wrap else programs
    meta = configure.variant_meta(variant)
    timeout = float(sum(p.timeout for p in programs) + BOOT_SLACK)
    timeout = min(timeout, limit) if limit else timeout
    cases = run_boot(prep.src, prep.kernel, prep.init, programs, results,
                     f"fault.{scenario.name}", timeout,
                     meta.get("boot", "").split() + fault.SCENARIO_BOOT + scenario.boot,
                     kunit=False)
    texts = [f.read_text(errors="replace")
             for f in sorted((results / "ktap" / f"fault.{scenario.name}").glob("*.ktap"))]
    return cases + verdict.expectation_cases(scenario.name, scenario.expects,
                                             fault.counters(texts))


def kunit_boot(prep: prepared.Prepared, variant: str, results: Path,
               limit: float | None = None) -> list[Case]:
    """One boot that runs KUnit only; its cases."""
    meta = configure.variant_meta(variant)
    return run_boot(prep.src, prep.kernel, prep.init, [], results, "kunit",
                    limit or KUNIT_TIMEOUT, meta.get("boot", "").split())
