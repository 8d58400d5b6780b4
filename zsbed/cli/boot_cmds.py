"""make uml-test, qemu-test, fault, flaky, build, variants: build the
kernel a command asks for and boot its plan or scenarios."""
from __future__ import annotations

import argparse

from zsbed.cli import preflight
from zsbed.cli.args import common, request, sharded
from zsbed.core import options, paths, textfile
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say
from zsbed.kernel import configure, fetch, prepared, target
from zsbed.plan import boots, fault
from zsbed.plan.parse import Case
from zsbed.results import shard
from zsbed.verdict import verdict


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
    prep = prepared.prepare(request(args))
    run = report.new_run(args.variant)
    shard.start(run, f"{args.command}:{args.variant}", shard.WHOLE, ["main"], ["main"])
    cases = boots.selftest_cases(prep, args.variant, run, args.timeout)
    info = report.RunInfo(variant=args.variant, kernel=prep.tree.kernel)
    report.write_cases(run, info, cases)
    code = report.run_pytest(run, args.pytest_args)
    say(f"results: {paths.show(run)} (results/latest): summary.json, junit.xml, ktap/, dmesg/")
    return shard.finish(run, code)


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
    req = request(args)
    cases: list[Case] = []
    for scenario in sorted(chosen, key=lambda s: fault.variant_for(s, args.target)):
        say(f"[fault] {scenario.name}: {scenario.purpose}")
        cases += boots.scenario_cases(req, scenario, run)
    info = report.RunInfo(variant=args.variant or "per-scenario",
                          kernel=fetch.fetch(args.ksrc).kernel)
    report.write_cases(run, info, cases)
    code = report.run_pytest(run, args.pytest_args)
    say(f"results: {paths.show(run)} (results/latest)")
    return shard.finish(run, code)


def cmd_flaky(args: argparse.Namespace) -> int:
    """Boot the plan and every scenario N times on the unmutated series;
    every case must fail 0 of N times. SHARD=i/N: that shard's boots."""
    from zsbed.results import report
    from zsbed.verdict import flaky

    split = shard.parse(args.shard)
    variants = [v for v in (args.variants or "fast,deep").split(",") if v]
    if args.kunit and args.scenario:
        raise ZsbedError(f"KUNIT=1 boots KUnit only: SCENARIO={args.scenario} does not go with it")
    every = [] if args.kunit else \
        fault.scenarios(args.scenario) if args.scenario else fault.scenarios()
    plan_variants = [] if args.scenario else variants
    preflight.check(args, {s.variant for s in every} | set(plan_variants), every, plan_variants)
    whole = [f"main:{v}" for v in plan_variants] + [s.name for s in every]
    plans = split.pick(plan_variants, lambda v: f"main:{v}")
    chosen = split.pick(every, lambda s: s.name)
    run = report.new_run("flaky" + split.suffix)
    shard.start(run, "flaky", split, [f"main:{v}" for v in plans] + [s.name for s in chosen],
                whole)
    req = request(args)
    runs: list[list[Case]] = []
    for n in range(1, args.n + 1):
        cases: list[Case] = []
        for variant in plans:
            say(f"[flaky] run {n} of {args.n}: {'KUnit' if args.kunit else 'the plan'} "
                f"({variant})")
            prep = prepared.prepare(req.at(variant))
            out = run / f"run{n}" / variant
            cases += boots.kunit_boot(prep, variant, out) if args.kunit else \
                boots.selftest_cases(prep, variant, out, None)
        for scenario in sorted(chosen, key=lambda s: s.variant):
            say(f"[flaky] run {n} of {args.n}: {scenario.name}")
            cases += boots.scenario_cases(req.at(None), scenario, run / f"run{n}" / "fault")
        runs.append(cases)
        bad = sum(c.outcome in verdict.FAILED for c in cases)
        say(f"[flaky] run {n} of {args.n}: {len(cases)} cases, {bad} failed")
    return shard.finish(run, flaky.conclude(run, args.n, plans, len(chosen),
                                            verdict.flaky_rows(runs)))


def cmd_build(args: argparse.Namespace) -> int:
    preflight.check(args, [args.variant])
    prep = prepared.prepare(request(args))
    say(f"kernel: {paths.show(prep.kernel.linux)} ({prep.tree.kernel})")
    return 0


def cmd_variants(args: argparse.Namespace) -> int:
    for name in configure.variants():
        first = textfile.read_text(target.of(name).fragment(name)).splitlines()[:1]
        print(f"{name:19} {first[0].lstrip('# ') if first else ''}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, what, variant, timeouts in (
            ("uml-test", "build, boot UML, run KUnit and the selftests", "fast",
             "the plan's timeouts + 30"),
            ("qemu-test", "the same on an x86_64 guest under QEMU (KVM or TCG)", "x86-fast",
             "the plan's timeouts, scaled, + 30")):
        p = sub.add_parser(name, help=what)
        common(p)
        p.set_defaults(variant=variant, func=cmd_uml_test)
        p.add_argument("--timeout", type=options.positive("TIMEOUT", " of seconds"),
                       default=None, help=f"per boot, seconds (default: {timeouts})")
        p.add_argument("pytest_args", nargs="*", help="passed to pytest (e.g. -k zram)")
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
    p.add_argument("--kunit", action="store_true",
                   help="KUnit-only boots of the variants: no selftests, no scenarios")
    sharded(p)
    p.set_defaults(func=cmd_flaky)
    p = sub.add_parser("build", help="fetch, patch, configure and build only")
    common(p)
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("variants", help="list build variants")
    p.set_defaults(func=cmd_variants)
