"""make coverage, bench, peer, pipeline-bench: the series measured against
something (its fallback sites, the base kernel, zsbed's own targets)."""
from __future__ import annotations

import argparse

from zsbed.cli import preflight
from zsbed.cli.args import common, request, sharded
from zsbed.core import deps, options, paths
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say
from zsbed.kernel import build, fetch, prepared, target
from zsbed.machine import boot
from zsbed.plan import boots, fault
from zsbed.plan.parse import Case
from zsbed.results import shard


def cmd_coverage(args: argparse.Namespace) -> int:
    """Every plan and scenario in both gcov variants; fallback sites must be hit.
    SHARD=i/N: that shard's boots, and the sites are judged by make merge."""
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
    req = request(args)
    cases: list[Case] = []
    traces: dict[str, list[coverage.Trace]] = {}
    src = None
    for mode, variant in coverage.MODES.items():
        todo = [(b, s) for m, b, s in chosen if m == mode]
        if not todo:
            continue
        prep = prepared.prepare(req.at(variant))
        src = prep.src
        collect = {p.name: p for p in prep.selftests}["gcov_collect"]
        results = run / mode
        wrap = coverage.phases(collect)
        for _, scenario in todo:
            if scenario is None:
                say(f"[coverage] {mode}: KUnit and the selftest plan ({variant})")
                cases += boots.selftest_cases(prep, variant, results, None, wrap)
            else:
                say(f"[coverage] {mode}: fault scenario {scenario.name}")
                cases += boots.scenario_cases(req.at(variant), scenario, results, wrap=wrap)
        traces[mode] = coverage.tracefiles(prep.src, prep.kernel.bdir, results,
                                           [b for b, _ in todo])
    assert src is not None
    info = report.RunInfo(variant="coverage", kernel=fetch.fetch(args.ksrc).kernel)
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
    tree = fetch.fetch(args.ksrc)
    run = report.new_run("bench")
    out = run / "bench"
    say(f"[bench] {where.name}: {s.mib} MiB per process, {s.rounds} rounds, procs "
        f"{', '.join(map(str, s.procs))}, modes {', '.join(s.modes)}")
    bench.measure(tree, args.series, s, out, where)
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
    tree = fetch.fetch(args.ksrc)
    run = report.new_run("peer")
    shard.start(run, "peer", shard.WHOLE, ["peer"], ["peer"])
    init = build.build_guest()
    setup = next(p for p in build.build_selftests(tree.path) if p.name == "peer_setup")
    cases = peer.compare(tree, args.series, known, setup, init, run)
    report.write_cases(run, report.RunInfo(variant="peer", kernel=tree.kernel), cases)
    code = report.run_pytest(run, args.pytest_args)
    print((run / "peer" / "peer.md").read_text(), end="")
    say(f"results: {paths.show(run)}/peer/peer.md, peer.json (results/latest)")
    return shard.finish(run, code)


def cmd_pipeline_bench(args: argparse.Namespace) -> int:
    """Time zsbed's own pipeline against its performance targets."""
    from zsbed.bench import pipeline_bench

    return pipeline_bench.measure(cold=args.cold, boots=args.boots)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    p = sub.add_parser("pipeline-bench", help="time rerun, patch edit, boot (and cold)")
    p.add_argument("--cold", action="store_true", help="also a fresh clone with ccache off")
    p.add_argument("--boots", type=options.count("BOOTS"), default=10)
    p.set_defaults(func=cmd_pipeline_bench)
