"""Command line: the pipeline fetch -> patch -> configure -> build -> boot ->
run -> parse -> report, one module per stage. The Makefile calls this."""
from __future__ import annotations

import argparse
import hashlib
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Callable

from zsbed.cli import preflight
from zsbed.cli import crash
from zsbed.core import deps, options, paths, textfile
from zsbed.kernel import configure, target
from zsbed.machine import boot
from zsbed.plan import fault, plan
from zsbed.results import shard
from zsbed.verdict import verdict
from zsbed.kernel.build import Kernel, build_guest, build_kernel, build_selftests
from zsbed.core.errors import ZsbedError
from zsbed.kernel.fetch import Tree, fetch
from zsbed.kernel.patch import Patch, content_id, patch, split_series, touches_build
from zsbed.plan.parse import Case
from zsbed.core.progress import say
from zsbed.plan.program import Program
from zsbed.plan.run import run_boot

BOOT_SLACK = 30          # seconds a boot may take beyond its programs' timeouts
# Rewrites a boot's plan (programs, name of what ran before the first);
# coverage uses it to collect the counters of each phase.
Wrap = Callable[[list[Program], str], list[Program]]


@dataclass(frozen=True)
class Prepared:
    """Everything a boot needs."""

    tree: Tree
    src: Path
    kernel: Kernel
    init: Path
    selftests: list[Path]
    digest: str = ""             # the patched source's content id


def build_dir(tree: Tree, variant: str) -> Path:
    """build/<variant>, or build/<variant>-<hash> for a user's KSRC tree."""
    if tree.managed:
        return paths.BUILD / variant
    return paths.BUILD / f"{variant}-{hashlib.sha256(str(tree.path).encode()).hexdigest()[:8]}"


def prepare(args: argparse.Namespace, extra: tuple[Patch, ...] = ()) -> Prepared:
    """Fetch, patch, configure and build: everything up to the boot.

    The command has checked its other inputs (preflight) before this.
    """
    frags = configure.fragments(args.variant)     # a bad VARIANT= fails before any work
    deps.ensure(qemu=target.of(args.variant).name == "qemu")
    tree = fetch(args.ksrc)
    configure.requested(tree.path, frags)         # fragments parse, before patching
    src, source_digest = patch(tree, args.series, extra)
    bdir = build_dir(tree, args.variant)
    # An extra patch of C code only (a mutant) leaves the .config as it is:
    # configure keys on the tree without it, the build on the whole source.
    config_key = source_digest if touches_build(extra) else content_id(tree, args.series)
    # the tree's location is part of its identity: kbuild output refers to it
    config_digest = configure.configure(src, f"{src}:{config_key}", args.variant, bdir,
                                        arch=target.of(args.variant).arch)
    make_vars = tuple(configure.variant_meta(args.variant).get("make", "").split())
    kernel = build_kernel(src, bdir, args.variant, f"{config_digest}:{source_digest}",
                          always=not tree.managed, make_vars=make_vars)
    return Prepared(tree=tree, src=src, kernel=kernel, init=build_guest(),
                    selftests=build_selftests(src), digest=source_digest)


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


def selftest_cases(prep: Prepared, variant: str, results: Path,
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


def cmd_uml_test(args: argparse.Namespace) -> int:
    """Build, boot the default plan once, and report through pytest
    (make qemu-test: the same, on an x86_64 guest under QEMU)."""
    from zsbed.results import report

    want = "qemu" if args.command == "qemu-test" else "uml"
    if target.of(args.variant).name != want:
        other = "qemu-test" if want == "uml" else "uml-test"
        raise ZsbedError(f"VARIANT={args.variant}: not a {want} variant; make {other} runs it "
                         f"({want} variants: {', '.join(configure.variants(want))})")
    preflight.check(args, plan_variants=[args.variant])
    prep = prepare(args)
    run = report.new_run(args.variant)
    shard.start(run, f"{args.command}:{args.variant}", shard.WHOLE, ["main"], ["main"])
    cases = selftest_cases(prep, args.variant, run, args.timeout)
    info = report.RunInfo(variant=args.variant, kernel=prep.tree.kernel)
    report.write_cases(run, info, cases)
    code = report.run_pytest(run, args.pytest_args)
    say(f"results: {paths.show(run)} (results/latest): summary.json, junit.xml, ktap/, dmesg/")
    return shard.finish(run, code)


def scenario_cases(args: argparse.Namespace, scenario: fault.Scenario,
                   results: Path, extra: tuple[Patch, ...] = (),
                   wrap: Wrap | None = None) -> list[Case]:
    """Build the scenario's variant and boot it once (its plan through ``wrap``); its cases."""
    import copy

    sargs = copy.copy(args)
    sargs.variant = args.variant or fault.variant_for(scenario, getattr(args, "target", "uml"))
    return scenario_boot(prepare(sargs, extra), sargs.variant, scenario, results, wrap)


def scenario_boot(prep: Prepared, variant: str, scenario: fault.Scenario, results: Path,
                  wrap: Wrap | None = None, limit: float | None = None) -> list[Case]:
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


def cmd_fault(args: argparse.Namespace) -> int:
    """Run the fault scenarios (all, or SCENARIO=; SHARD=i/N: that shard's);
    LIST=1 lists them."""
    from zsbed.results import report

    split = shard.parse(args.shard)
    every = fault.scenarios(args.scenario, args.target)
    elsewhere = [] if args.scenario else fault.elsewhere(args.target)
    if elsewhere:
        say(f"[fault] x86-only, not run on TARGET={args.target}: {', '.join(elsewhere)} "
            f"(make fault TARGET=qemu runs it)")
    chosen = split.pick(every, lambda s: s.name)
    if args.list:
        if split.count > 1:
            say(f"shard {split}: {len(chosen)} of {len(every)} scenarios")
        for s in chosen:
            print(f"{s.name:34} [{fault.variant_for(s, args.target)}] {s.purpose}")
        return 0
    if args.variant and target.of(args.variant).name != args.target:
        raise ZsbedError(f"VARIANT={args.variant}: a {target.of(args.variant).name} variant, "
                         f"but TARGET={args.target} (TARGET=qemu takes an x86-* variant)")
    preflight.check(args, {args.variant or fault.variant_for(s, args.target) for s in every},
                    every)
    run = report.new_run("fault" + split.suffix)
    shard.start(run, "fault", split, [s.name for s in chosen], [s.name for s in every])
    if not chosen:
        return shard.finish(run, report.nothing_ran(run, f"shard {split} holds no scenario"))
    cases: list[Case] = []
    for scenario in sorted(chosen, key=lambda s: fault.variant_for(s, args.target)):
        say(f"[fault] {scenario.name}: {scenario.purpose}")
        cases += scenario_cases(args, scenario, run)
    info = report.RunInfo(variant=args.variant or "per-scenario",
                          kernel=fetch(args.ksrc).kernel)
    report.write_cases(run, info, cases)
    code = report.run_pytest(run, args.pytest_args)
    say(f"results: {paths.show(run)} (results/latest)")
    return shard.finish(run, code)


def cmd_flaky(args: argparse.Namespace) -> int:
    """Boot the plan and every scenario N times on the unmutated series;
    every case must fail 0 of N times. SHARD=i/N: that shard's boots."""
    import copy

    from zsbed.results import report
    from zsbed.verdict import flaky

    split = shard.parse(args.shard)
    variants = [v for v in (args.variants or "fast,deep").split(",") if v]
    every = fault.scenarios(args.scenario) if args.scenario else fault.scenarios()
    plan_variants = [] if args.scenario else variants
    preflight.check(args, {s.variant for s in every} | set(plan_variants), every, plan_variants)
    whole = [f"main:{v}" for v in plan_variants] + [s.name for s in every]
    plans = split.pick(plan_variants, lambda v: f"main:{v}")
    chosen = split.pick(every, lambda s: s.name)
    run = report.new_run("flaky" + split.suffix)
    shard.start(run, "flaky", split, [f"main:{v}" for v in plans] + [s.name for s in chosen],
                whole)
    runs: list[list[Case]] = []
    for n in range(1, args.n + 1):
        cases: list[Case] = []
        for variant in plans:
            vargs = copy.copy(args)
            vargs.variant = variant
            say(f"[flaky] run {n} of {args.n}: the plan ({variant})")
            cases += selftest_cases(prepare(vargs), variant, run / f"run{n}" / variant, None)
        for scenario in sorted(chosen, key=lambda s: s.variant):
            say(f"[flaky] run {n} of {args.n}: {scenario.name}")
            sargs = copy.copy(args)
            sargs.variant = None
            cases += scenario_cases(sargs, scenario, run / f"run{n}" / "fault")
        runs.append(cases)
        bad = sum(c.outcome in verdict.FAILED for c in cases)
        say(f"[flaky] run {n} of {args.n}: {len(cases)} cases, {bad} failed")
    return shard.finish(run, flaky.conclude(run, args.n, plans, len(chosen),
                                            verdict.flaky_rows(runs)))


def cmd_mutants(args: argparse.Namespace) -> int:
    """Build and boot every mutant; each must be caught."""
    import copy

    from zsbed.mutants import handwritten as mutants
    from zsbed.results import report

    def run_cases(base: argparse.Namespace, mutant: mutants.Mutant, variant: str,
                  results: Path) -> list[Case]:
        margs = copy.copy(base)
        margs.variant = variant
        if mutant.scenario:
            (scenario,) = fault.scenarios(mutant.scenario, target.of(variant).name)
            return scenario_cases(margs, scenario, results, extra=(mutant.patch,))
        prep = prepare(margs, extra=(mutant.patch,))
        return selftest_cases(prep, variant, results, None)

    split = shard.parse(args.shard)
    every = mutants.select(args.mutant, args.target)
    if not args.mutant:
        elsewhere = [m.name for m in mutants.load() if not mutants.on_target(m, args.target)]
        other = "qemu" if args.target == "uml" else "uml"
        if elsewhere:
            what = ", ".join(elsewhere) if len(elsewhere) <= 4 else f"{len(elsewhere)} mutants"
            say(f"[mutants] not on TARGET={args.target}: {what} "
                f"(make mutants TARGET={other} runs them)")
    preflight.check(args, {args.variant} | {v for m in every for v in m.variants},
                    [s for m in every if m.scenario
                     for s in fault.scenarios(m.scenario, target.of(m.variants[0]).name)],
                    {v for m in every if not m.scenario for v in m.variants})
    whole = mutants.pairs(every)
    chosen = split.pick(whole, lambda p: mutants.entry(*p))
    run = report.new_run("mutants" + split.suffix)
    shard.start(run, "mutants", split, [mutants.entry(*p) for p in chosen],
                [mutants.entry(*p) for p in whole])
    if not chosen:
        say(f"[mutants] shard {split} holds no mutant")
        return shard.finish(run, mutants.conclude([], run))
    try:
        return shard.finish(run, mutants.run_all(args, run_cases, chosen, run, args.repeat))
    finally:
        say("[mutants] restoring the tree without mutants")
        prepare(args)


KUNIT_TIMEOUT = 180       # a KUnit-only boot (the baseline's; mutants get a limit from it)


def cmd_mutation(args: argparse.Namespace) -> int:
    """Generate mutants from the series' added lines, build and boot each, score."""
    from zsbed.mutants import generate as mutation, runner as mutation_run, score as mutation_report
    from zsbed.results import report

    split = shard.parse(args.shard)
    equivalent = mutation_report.load_equivalent()
    if args.series is not None and equivalent:
        say(f"[mutation] SERIES={args.series}: {paths.show(mutation_report.EQUIVALENT)} argues "
            f"the default series' mutants; not applied")
        equivalent = {}
    every = fault.scenarios()
    catchers = mutation_run.catchers()
    preflight.check(args, {c.variant for c in catchers}, every,
                    [c.variant for c in catchers if c.kind == "plan"])
    base = prepare(args)
    if equivalent:
        ours, instrumentation = split_series(None)
        contradicted = mutation_report.site_problems(
            base.src, mutation_report.series_files(p.text for p in ours + instrumentation),
            mutation_report.load_sites())
        if contradicted:
            raise ZsbedError(f"{paths.show(mutation_report.EQUIVALENT)}: {contradicted[0]}"
                             + (f" (and {len(contradicted) - 1} more)" if len(contradicted) > 1
                                else ""))

    def boot(c: mutation_run.Catcher, prep: Prepared, out: Path, limit: float) -> list[Case]:
        if c.kind == "scenario":
            assert c.scenario is not None
            return scenario_boot(prep, c.variant, c.scenario, out, limit=limit or None)
        if c.kind == "plan":
            return selftest_cases(prep, c.variant, out, None, limit=limit or None)
        meta = configure.variant_meta(c.variant)
        return run_boot(prep.src, prep.kernel, prep.init, [], out, "kunit",
                        limit or KUNIT_TIMEOUT, meta.get("boot", "").split())

    src = mutation_run.source(base.tree.path, base.src, args.series)
    whole = mutation.select(src.mutants, args.sample, args.seed)
    if args.mutant:
        whole = [m for m in whole if m.id == args.mutant or m.id.startswith(args.mutant + ":")]
        if not whole:
            raise ZsbedError(f"MUTANT={args.mutant}: no generated mutant has that id "
                             f"(file:line:operator:n, or a prefix of whole parts)")
    chosen = [m for m in whole if split.holds(m.id)]
    run = report.new_run("mutation" + split.suffix)
    shard.start(run, "mutation", split, [m.id for m in chosen], [m.id for m in whole])
    if args.report_only:
        state = mutation_run.state_dir(base.digest)
        results = mutation_run.kept(state, chosen)
        say(f"[mutation] REPORT=1: {len(results)} of {len(chosen)} mutants have results in "
            f"{paths.show(state)}; the report covers those (make mutation runs the rest)")
        return shard.finish(run, mutation_report.write(
            run / "mutation", state, src, results, [m.id for m in chosen if m.id in results],
            equivalent, args.min_score))
    try:
        state, results = mutation_run.run(base.digest, src, chosen,
                                          mutation_run.prepare_with(args, prepare), boot)
    finally:
        say("[mutation] restoring the tree without mutants")
        prepare(args)
    return shard.finish(run, mutation_report.write(run / "mutation", state, src, results,
                                                   [m.id for m in chosen], equivalent,
                                                   args.min_score))


def cmd_coverage(args: argparse.Namespace) -> int:
    """Every plan and scenario in both gcov variants; fallback sites must be hit.
    SHARD=i/N: that shard's boots, and the sites are judged by make merge."""
    import copy

    from zsbed.coverage import coverage
    from zsbed.results import report

    coverage.load_sites()                 # a bad site list fails before any work
    split = shard.parse(args.shard)
    without = set(filter(None, (args.without or "").split(",")))
    scenarios = fault.scenarios()
    unknown = without - {s.name for s in scenarios}
    if unknown:
        raise ZsbedError(f"WITHOUT={','.join(sorted(unknown))}: no such scenario in fault/")
    preflight.check(args, coverage.MODES.values(),
                    [s for s in scenarios if s.name not in without], coverage.MODES.values())
    # every boot of the run, in order: the plan, then the scenarios of each mode
    whole: list[tuple[str, str, fault.Scenario | None]] = [
        (mode, "main", None) for mode in coverage.MODES]
    whole += [(mode, f"fault.{s.name}", s) for mode in coverage.MODES for s in scenarios
              if s.name not in without and fault.lookup_mode(s) in (None, mode)]
    whole.sort(key=lambda b: list(coverage.MODES).index(b[0]))
    chosen = split.pick(whole, lambda b: coverage.entry(b[0], b[1]))
    run = report.new_run("coverage" + split.suffix)
    shard.start(run, "coverage", split, [coverage.entry(m, b) for m, b, _ in chosen],
                [coverage.entry(m, b) for m, b, _ in whole])
    if not chosen:
        return shard.finish(run, report.nothing_ran(run, f"shard {split} holds no boot"))
    deps.ensure(coverage=True)
    cases: list[Case] = []
    traces: dict[str, list[coverage.Trace]] = {}
    src = None
    for mode, variant in coverage.MODES.items():
        boots = [(b, s) for m, b, s in chosen if m == mode]
        if not boots:
            continue
        margs = copy.copy(args)
        margs.variant = variant
        prep = prepare(margs)
        src = prep.src
        collect = {p.name: p for p in prep.selftests}["gcov_collect"]
        results = run / mode
        wrap = coverage.phases(collect)
        for _, scenario in boots:
            if scenario is None:
                say(f"[coverage] {mode}: KUnit and the selftest plan ({variant})")
                cases += selftest_cases(prep, variant, results, None, wrap)
            else:
                say(f"[coverage] {mode}: fault scenario {scenario.name}")
                cases += scenario_cases(margs, scenario, results, wrap=wrap)
        traces[mode] = coverage.tracefiles(prep.src, prep.kernel.bdir, results,
                                           [b for b, _ in boots])
    assert src is not None
    info = report.RunInfo(variant="coverage", kernel=fetch(args.ksrc).kernel)
    report.write_cases(run, info, cases)
    code = report.run_pytest(run, [])
    coverage.save_sources(src, run)
    if split.count > 1:
        say(f"[coverage] shard {split}: the sites are judged over all shards by make merge")
        return shard.finish(run, code)
    out = run / "coverage"
    results_, files = coverage.report(src, traces, out)
    return shard.finish(run, 1 if coverage.conclude(results_, files, out) else code)


def cmd_bench(args: argparse.Namespace) -> int:
    """Time munmap/exit on the fallback, classbits and deferred kernels."""
    from zsbed.bench import bench
    from zsbed.results import report

    s = bench.settings(args.quick, args.mib, args.rounds)
    where = target.by_name(args.target)
    preflight.check(args, uml_mem=boot.mem_bytes([s.mem]) if where.name == "uml" else 0)
    bench.kernel_patches(args.series, where)
    bench.precheck(where)
    deps.ensure(bench=True, qemu=where.name == "qemu")
    tree = fetch(args.ksrc)
    run = report.new_run("bench")
    out = run / "bench"
    say(f"[bench] {where.name}: {s.mib} MiB per process, {s.rounds} rounds, procs "
        f"{', '.join(map(str, s.procs))}, modes {', '.join(s.modes)}")
    bench.run(tree, args.series, s, out, where)
    print((out / "bench.md").read_text())
    say(f"results: {paths.show(out)}/bench.json, bench.md, bench.png")
    return 0


def cmd_peer(args: argparse.Namespace) -> int:
    """Upstream's zram and cgroup selftests on the base and the series kernel."""
    from zsbed.peer import peer
    from zsbed.results import report

    preflight.check(args, uml_mem=boot.MEM_BYTES)
    peer.kernel_patches(args.series)
    known = peer.load_failures()
    deps.ensure(peer=True)
    tree = fetch(args.ksrc)
    run = report.new_run("peer")
    shard.start(run, "peer", shard.WHOLE, ["peer"], ["peer"])
    init = build_guest()
    setup = next(p for p in build_selftests(tree.path) if p.name == "peer_setup")
    cases = peer.run(tree, args.series, known, setup, init, run)
    report.write_cases(run, report.RunInfo(variant="peer", kernel=tree.kernel), cases)
    code = report.run_pytest(run, args.pytest_args)
    print((run / "peer" / "peer.md").read_text(), end="")
    say(f"results: {paths.show(run)}/peer/peer.md, peer.json (results/latest)")
    return shard.finish(run, code)


def cmd_build(args: argparse.Namespace) -> int:
    preflight.check(args, [args.variant])
    prep = prepare(args)
    say(f"kernel: {paths.show(prep.kernel.linux)} ({prep.tree.kernel})")
    return 0


def cmd_unit(args: argparse.Namespace) -> int:
    """The harness's own unit tests (they use the tree's kunit.py modules)."""
    deps.ensure()
    import pytest

    tree = fetch(args.ksrc)
    os.environ["ZSBED_KTREE"] = str(tree.path)
    # pytest's settings are pyproject.toml's
    return int(pytest.main([str(paths.REPO / "tests"), "--rootdir", str(paths.REPO),
                            *args.pytest_args]))


def cmd_pipeline_bench(args: argparse.Namespace) -> int:
    """Time zsbed's own pipeline against its performance targets."""
    from zsbed.bench import pipeline_bench

    return pipeline_bench.run(cold=args.cold, boots=args.boots)


def cmd_checkpatch(args: argparse.Namespace) -> int:
    """checkpatch.pl --strict on every patch a run would apply."""
    from zsbed.kernel.checkpatch import checkpatch

    preflight.check(args)
    deps.ensure()
    return checkpatch(fetch(args.ksrc), args.series)


def cmd_series_build(args: argparse.Namespace) -> int:
    """Each patch builds, fault points compile away, x86_64 objects compile."""
    from zsbed.kernel.series_build import series_build

    preflight.check(args, ["fast"])
    deps.ensure()
    return series_build(fetch(args.ksrc), args.series)


def cmd_workflow(args: argparse.Namespace) -> int:
    """The GitHub Actions workflow: edited in ci/github/, copied, schema-valid."""
    from zsbed.ci import workflow

    return workflow.check()


def cmd_merge(args: argparse.Namespace) -> int:
    """Shard and job results directories as one report."""
    from zsbed.results import merge

    tier: bool | str = "full" if args.matrix == "1" else (args.matrix or False)
    return merge.merge([Path(r) for r in args.results], expect_matrix=tier)


def cmd_ci_local(args: argparse.Namespace) -> int:
    """The CI matrix in N shards on this machine, merged, compared with unsharded runs."""
    from zsbed.ci import ci_local

    extra = ([f"KSRC={args.ksrc}"] if args.ksrc else []) + \
        ([f"SERIES={args.series}"] if args.series else [])
    return ci_local.run(ci_local.shards(args.n), [Path(r) for r in args.results], extra)


def cmd_summary(args: argparse.Namespace) -> int:
    """A results directory as Markdown, for a CI run's page."""
    from zsbed.results import report

    run = Path(args.results) if args.results else paths.RESULTS / "latest"
    if not run.is_dir():
        raise ZsbedError(f"RESULTS={args.results or paths.show(run)}: no results directory")
    print(report.step_summary(run), end="")
    return 0


def cmd_ci_container(args: argparse.Namespace) -> int:
    """One job of the workflow in a container made like GitHub's."""
    from zsbed.ci import ci_container

    return ci_container.rehearse(args.job, args.rev, keep=args.keep)


def cmd_test_data(args: argparse.Namespace) -> int:
    """Refresh tests/data from real result directories."""
    from zsbed.results import report

    written = report.save_test_data([Path(r) for r in args.results], paths.REPO / "tests" / "data")
    say(f"tests/data: {', '.join(written)} from {len(args.results)} runs")
    return 0


def cmd_variants(args: argparse.Namespace) -> int:
    for name in configure.variants():
        first = textfile.read_text(target.of(name).fragment(name)).splitlines()[:1]
        print(f"{name:19} {first[0].lstrip('# ') if first else ''}")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    """zsbed's own Python: mypy --strict and flake8."""
    from zsbed.cli import lint

    deps.ensure()
    return lint.run()


def cmd_reference(args: argparse.Namespace) -> int:
    """docs/reference.md, generated."""
    from zsbed.cli import reference

    say(f"[reference] wrote {paths.show(reference.write(parser()))}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = options.Parser(prog="zsbed", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--variant", default="fast", help="uml-config/<variant>.config")
        p.add_argument("--ksrc", default=None, help="your own 7.3.x tree (used read-only)")
        p.add_argument("--series", default=None, help="dir with a series file, an mbox, or 'none'")

    def sharded(p: argparse.ArgumentParser) -> None:
        p.add_argument("--shard", default=None, help="i/N: only shard i of N of the boots")

    p = sub.add_parser("uml-test", help="build, boot UML, run KUnit and the selftests")
    common(p)
    p.add_argument("--timeout", type=options.positive("TIMEOUT", " of seconds"), default=None,
                   help="per boot, seconds (default: the plan's timeouts + 30)")
    p.add_argument("pytest_args", nargs="*", help="passed to pytest (e.g. -k zram)")
    p.set_defaults(func=cmd_uml_test)
    p = sub.add_parser("qemu-test", help="the same on an x86_64 guest under QEMU (KVM or TCG)")
    common(p)
    p.set_defaults(variant="x86-fast")
    p.add_argument("--timeout", type=options.positive("TIMEOUT", " of seconds"), default=None,
                   help="per boot, seconds (default: the plan's timeouts, scaled, + 30)")
    p.add_argument("pytest_args", nargs="*", help="passed to pytest (e.g. -k zram)")
    p.set_defaults(func=cmd_uml_test)
    p = sub.add_parser("fault", help="run the fault-injection scenarios in fault/")
    common(p)
    p.set_defaults(variant=None)          # each scenario names its own
    p.add_argument("--scenario", default=None, help="only fault/<name>.toml")
    p.add_argument("--list", action="store_true", help="list scenarios with their purpose")
    p.add_argument("--target", choices=("uml", "qemu"), default="uml",
                   help="qemu: on the x86_64 guest (x86-fast, or x86-fallback)")
    sharded(p)
    p.add_argument("pytest_args", nargs="*")
    p.set_defaults(func=cmd_fault)
    p = sub.add_parser("flaky", help="boot the plan and every scenario N times; "
                       "no case may fail even once")
    common(p)
    p.add_argument("--n", type=options.count("N"), default=20, help="runs (default 20)")
    p.add_argument("--variants", default=None, help="plan variants, comma-separated "
                   "(default fast,deep)")
    p.add_argument("--scenario", default=None, help="only this scenario (no plan)")
    sharded(p)
    p.set_defaults(func=cmd_flaky)
    p = sub.add_parser("mutation", help="generated mutants of the series' added lines: a score")
    common(p)
    sharded(p)
    p.add_argument("--sample", type=options.count("SAMPLE"), default=None,
                   help="a seeded sample of this many mutants")
    p.add_argument("--seed", type=options.count("SEED", 0), default=1, help="the sample's seed")
    p.add_argument("--report-only", action="store_true",
                   help="no builds or boots: score the results kept so far")
    p.add_argument("--mutant", default=None,
                   help="only this mutant id, or the ids under a prefix (file:line)")
    p.add_argument("--min-score", type=options.percent("MIN_SCORE"), default=None,
                   help="fail when the score (percent) is below this")
    p.set_defaults(func=cmd_mutation)

    p = sub.add_parser("mutants", help="build and boot every mutant; each must be caught")
    common(p)
    p.add_argument("--mutant", default=None, help="only this one")
    p.add_argument("--target", choices=("uml", "qemu"), default="uml",
                   help="qemu: the mutants of x86_64 variants (KCSAN's)")
    p.add_argument("--repeat", type=options.count("REPEAT"), default=1,
                   help="boot each mutant this many times; killed only if every run kills it")
    sharded(p)
    p.set_defaults(func=cmd_mutants)
    p = sub.add_parser("coverage", help="gcov of the series' files; every fallback site hit")
    common(p)
    p.add_argument("--without", default=None,
                   help="comma-separated scenarios to leave out (to see which sites need them)")
    sharded(p)
    p.set_defaults(func=cmd_coverage)
    p = sub.add_parser("bench", help="munmap/exit timing: fallback, classbits, deferred")
    common(p)
    p.add_argument("--quick", action="store_true", help="32 MiB per process, 3 rounds")
    p.add_argument("--mib", type=options.count("MIB"), default=None,
                   help="MiB per process (default 256)")
    p.add_argument("--rounds", type=options.count("ROUNDS"), default=None, help="rounds (default 5)")
    p.add_argument("--target", choices=("uml", "qemu"), default="uml",
                   help="qemu: x86_64 guests under KVM (refused under TCG)")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("peer", help="upstream's zram and cgroup selftests on base and series")
    common(p)
    p.add_argument("pytest_args", nargs="*")
    p.set_defaults(func=cmd_peer)
    p = sub.add_parser("build", help="fetch, patch, configure and build only")
    common(p)
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("lint", help="mypy --strict and flake8, set up in pyproject.toml")
    p.set_defaults(func=cmd_lint)
    p = sub.add_parser("unit", help="the harness's unit tests")
    p.add_argument("--ksrc", default=None, help="tree whose kunit.py modules to use")
    p.add_argument("pytest_args", nargs="*")
    p.set_defaults(func=cmd_unit)
    p = sub.add_parser("pipeline-bench", help="time rerun, patch edit, boot (and cold)")
    p.add_argument("--cold", action="store_true", help="also a fresh clone with ccache off")
    p.add_argument("--boots", type=options.count("BOOTS"), default=10)
    p.set_defaults(func=cmd_pipeline_bench)
    p = sub.add_parser("checkpatch", help="scripts/checkpatch.pl --strict on the patches")
    common(p)
    p.set_defaults(func=cmd_checkpatch)
    p = sub.add_parser("series-build", help="each patch builds; fault points compile away; "
                       "x86_64 objects compile")
    common(p)
    p.set_defaults(func=cmd_series_build)
    p = sub.add_parser("workflow", help="check the GitHub Actions workflow (action-validator)")
    p.set_defaults(func=cmd_workflow)
    p = sub.add_parser("merge", help="merge shard and job results directories into one report")
    p.add_argument("--matrix", nargs="?", const="full", default=None,
                   choices=("gate", "full", "1"),
                   help="every results part of the CI matrix's tiers that ran (gate, or full: "
                   "both; 1 is full) must be there (zsbed/ci/matrix.py)")
    p.add_argument("results", nargs="*", help="results directories (shards and whole runs)")
    p.set_defaults(func=cmd_merge)
    p = sub.add_parser("ci-local", help="the CI matrix here in N shards, merged, and compared "
                       "case for case with the unsharded runs")
    p.add_argument("--n", default=None, help="shards per sharded job (default: the workflow's)")
    p.add_argument("--ksrc", default=None, help="passed to every job as KSRC=")
    p.add_argument("--series", default=None, help="passed to every job as SERIES=")
    p.add_argument("results", nargs="*", help="whole runs of the sharded jobs to compare "
                   "against, instead of running them")
    p.set_defaults(func=cmd_ci_local)
    p = sub.add_parser("summary", help="a results directory as Markdown (CI's step summary)")
    p.add_argument("results", nargs="?", default=None, help="default: results/latest")
    p.set_defaults(func=cmd_summary)
    p = sub.add_parser("ci-container", help="one job of the GitHub workflow in a container "
                       "made like GitHub's (Debian 12, noexec /dev/shm)")
    p.add_argument("--job", default="uml-test-fast", help="the job's id (a matrix entry's id)")
    p.add_argument("--rev", default="HEAD", help="the commit to check out (default HEAD)")
    p.add_argument("--keep", action="store_true", help="keep the container's root afterwards")
    p.set_defaults(func=cmd_ci_container)
    p = sub.add_parser("test-data", help="refresh tests/data from real results directories")
    p.add_argument("results", nargs="+", help="results/<run-id> of make uml-test (fast, deep) "
                   "and make fault")
    p.set_defaults(func=cmd_test_data)
    p = sub.add_parser("variants", help="list build variants")
    p.set_defaults(func=cmd_variants)
    p = sub.add_parser("reference", help="write docs/reference.md from the Makefile and "
                       "these options")
    p.set_defaults(func=cmd_reference)
    return top


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


# Commands that rewrite the patched tree or a build directory.
# (pipeline-bench is not one: it runs make uml-test, which takes the lock.)
EXCLUSIVE = {"uml-test", "qemu-test", "build", "fault", "flaky", "mutants", "mutation", "coverage", "bench",
             "series-build"}


def _lock_tree() -> IO[str]:
    """One zsbed run at a time per checkout: they share work/ and build/."""
    import fcntl

    paths.WORK.mkdir(parents=True, exist_ok=True)
    lock = (paths.WORK / ".lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        raise ZsbedError(f"work/.lock: another zsbed run (pid {lock.read().strip() or '?'}) "
                         f"is using this checkout; wait for it") from None
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        args = parser().parse_args(argv)
        options.check(args)
        held = _lock_tree() if args.command in EXCLUSIVE else None
        try:
            return int(args.func(args))
        finally:
            if held:
                held.close()
    except ZsbedError as exc:
        print(f"zsbed: error: {crash.oneline(str(exc), 1000)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zsbed: interrupted; no UML or QEMU guest left running, partial results kept; "
              "the next run redoes what was cut short", file=sys.stderr)
        return 130
    except Exception as exc:         # the last line of defence: one line, traceback saved
        return crash.handle(exc, argv)
