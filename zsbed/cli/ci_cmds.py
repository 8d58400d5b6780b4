"""make merge, ci-local, summary, ci-container, test-data: results of many
runs made one, the CI matrix rehearsed here, and the saved test logs."""
from __future__ import annotations

import argparse
from pathlib import Path

from zsbed.core import paths
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say


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
    return ci_local.run_matrix(ci_local.shards(args.n), [Path(r) for r in args.results], extra)


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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
