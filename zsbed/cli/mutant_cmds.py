"""make mutants (the hand-written ones) and make mutation (generated from
the series' added lines): build each mutant, boot what should catch it."""
from __future__ import annotations

import argparse
from pathlib import Path

from zsbed.cli import preflight
from zsbed.cli.args import common, request, sharded
from zsbed.core import options, paths
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say
from zsbed.kernel import prepared, target
from zsbed.kernel.patch import Patch, split_series
from zsbed.plan import boots, fault
from zsbed.plan.parse import Case
from zsbed.results import shard


def cmd_mutants(args: argparse.Namespace) -> int:
    """Build and boot every mutant; each must be caught."""
    from zsbed.mutants import handwritten
    from zsbed.results import report

    req = request(args)

    def run_cases(mutant: handwritten.Mutant, variant: str, results: Path) -> list[Case]:
        if mutant.scenario:
            (scenario,) = fault.scenarios(mutant.scenario, target.of(variant).name)
            return boots.scenario_cases(req.at(variant), scenario, results,
                                        extra=(mutant.patch,))
        prep = prepared.prepare(req.at(variant), extra=(mutant.patch,))
        return boots.selftest_cases(prep, variant, results, None)

    split = shard.parse(args.shard)
    every = handwritten.select(args.mutant, args.target)
    if not args.mutant:
        elsewhere = [m.name for m in handwritten.load()
                     if not handwritten.on_target(m, args.target)]
        other = "qemu" if args.target == "uml" else "uml"
        if elsewhere:
            what = ", ".join(elsewhere) if len(elsewhere) <= 4 else f"{len(elsewhere)} mutants"
            say(f"[mutants] not on TARGET={args.target}: {what} "
                f"(make mutants TARGET={other} runs them)")
    preflight.check(args, {args.variant} | {v for m in every for v in m.variants},
                    [s for m in every if m.scenario
                     for s in fault.scenarios(m.scenario, target.of(m.variants[0]).name)],
                    {v for m in every if not m.scenario for v in m.variants})
    whole = handwritten.pairs(every)
    chosen = split.pick(whole, lambda p: handwritten.entry(*p))
    run = report.new_run("mutants" + split.suffix)
    shard.start(run, "mutants", split, [handwritten.entry(*p) for p in chosen],
                [handwritten.entry(*p) for p in whole])
    if not chosen:
        say(f"[mutants] shard {split} holds no mutant")
        return shard.finish(run, handwritten.conclude([], run))
    try:
        return shard.finish(run, handwritten.run_all(run_cases, chosen, run, args.repeat))
    finally:
        say("[mutants] restoring the tree without mutants")
        prepared.prepare(req)


def cmd_mutation(args: argparse.Namespace) -> int:
    """Generate mutants from the series' added lines, build and boot each, score."""
    from zsbed.mutants import generate, runner, score
    from zsbed.results import report

    split = shard.parse(args.shard)
    equivalent = score.load_equivalent()
    if args.series is not None and equivalent:
        say(f"[mutation] SERIES={args.series}: {paths.show(score.EQUIVALENT)} argues "
            f"the default series' mutants; not applied")
        equivalent = {}
    every = fault.scenarios()
    catchers = runner.catchers()
    preflight.check(args, {c.variant for c in catchers}, every,
                    [c.variant for c in catchers if c.kind == "plan"])
    req = request(args)
    base = prepared.prepare(req)
    if equivalent:
        ours, instrumentation = split_series(None)
        contradicted = score.site_problems(
            base.src, score.series_files(p.text for p in ours + instrumentation),
            score.load_sites())
        if contradicted:
            raise ZsbedError(f"{paths.show(score.EQUIVALENT)}: {contradicted[0]}"
                             + (f" (and {len(contradicted) - 1} more)" if len(contradicted) > 1
                                else ""))

    def prep(variant: str, extra: tuple[Patch, ...]) -> prepared.Prepared:
        return prepared.prepare(req.at(variant), extra)

    def boot(c: runner.Catcher, kernel: prepared.Prepared, out: Path,
             limit: float) -> list[Case]:
        if c.kind == "scenario":
            assert c.scenario is not None
            return boots.scenario_boot(kernel, c.variant, c.scenario, out, limit=limit or None)
        if c.kind == "plan":
            return boots.selftest_cases(kernel, c.variant, out, None, limit=limit or None)
        return boots.kunit_boot(kernel, c.variant, out, limit or None)

    src = runner.source(base.tree.path, base.src, args.series)
    whole = generate.select(src.mutants, args.sample, args.seed)
    if args.mutant:
        whole = [m for m in whole if m.id == args.mutant or m.id.startswith(args.mutant + ":")]
        if not whole:
            raise ZsbedError(f"MUTANT={args.mutant}: no generated mutant has that id "
                             f"(file:line:operator:n, or a prefix of whole parts)")
    chosen = [m for m in whole if split.holds(m.id)]
    run = report.new_run("mutation" + split.suffix)
    shard.start(run, "mutation", split, [m.id for m in chosen], [m.id for m in whole])
    if args.report_only:
        state = runner.state_dir(base.digest)
        results = runner.kept(state, chosen)
        say(f"[mutation] REPORT=1: {len(results)} of {len(chosen)} mutants have results in "
            f"{paths.show(state)}; the report covers those (make mutation runs the rest)")
        return shard.finish(run, score.write(
            run / "mutation", state, src, results, [m.id for m in chosen if m.id in results],
            equivalent, args.min_score))
    try:
        state, results = runner.run_mutants(base.digest, src, chosen, prep, boot)
    finally:
        say("[mutation] restoring the tree without mutants")
        prepared.prepare(req)
    return shard.finish(run, score.write(run / "mutation", state, src, results,
                                         [m.id for m in chosen], equivalent, args.min_score))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
