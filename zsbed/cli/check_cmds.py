"""make unit, lint, checkpatch, series-build, workflow: the checks that
boot nothing (zsbed's own code, the patches, the workflow file)."""
from __future__ import annotations

import argparse
import os

from zsbed.cli import preflight
from zsbed.cli.args import common
from zsbed.core import deps, paths
from zsbed.kernel import fetch


def cmd_unit(args: argparse.Namespace) -> int:
    """The harness's own unit tests (they use the tree's kunit.py modules)."""
    deps.ensure()
    import pytest

    tree = fetch.fetch(args.ksrc)
    os.environ["ZSBED_KTREE"] = str(tree.path)
    # pytest's settings are pyproject.toml's
    return int(pytest.main([str(paths.REPO / "tests"), "--rootdir", str(paths.REPO),
                            *args.pytest_args]))


def cmd_lint(args: argparse.Namespace) -> int:
    """zsbed's own Python: mypy --strict and flake8."""
    from zsbed.cli import lint

    deps.ensure()
    return lint.check()


def cmd_checkpatch(args: argparse.Namespace) -> int:
    """checkpatch.pl --strict on every patch a run would apply."""
    from zsbed.kernel.checkpatch import checkpatch

    preflight.check(args)
    deps.ensure()
    return checkpatch(fetch.fetch(args.ksrc), args.series)


def cmd_series_build(args: argparse.Namespace) -> int:
    """Each patch builds, fault points compile away, x86_64 objects compile."""
    from zsbed.kernel.series_build import series_build

    preflight.check(args, ["fast"])
    deps.ensure()
    return series_build(fetch.fetch(args.ksrc), args.series)


def cmd_workflow(args: argparse.Namespace) -> int:
    """The GitHub Actions workflow: edited in ci/github/, copied, schema-valid."""
    from zsbed.ci import workflow

    return workflow.check()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("lint", help="mypy --strict and flake8, set up in pyproject.toml")
    p.set_defaults(func=cmd_lint)
    p = sub.add_parser("unit", help="the harness's unit tests")
    p.add_argument("--ksrc", default=None, help="tree whose kunit.py modules to use")
    p.add_argument("pytest_args", nargs="*")
    p.set_defaults(func=cmd_unit)
    p = sub.add_parser("checkpatch", help="scripts/checkpatch.pl --strict on the patches")
    common(p)
    p.set_defaults(func=cmd_checkpatch)
    p = sub.add_parser("series-build", help="each patch builds; fault points compile away; "
                       "x86_64 objects compile")
    common(p)
    p.set_defaults(func=cmd_series_build)
    p = sub.add_parser("workflow", help="check the GitHub Actions workflow (action-validator)")
    p.set_defaults(func=cmd_workflow)
