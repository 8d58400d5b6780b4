"""Command-line guards: one run per checkout, bad variants fail first."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed.cli import cli
from zsbed.core.errors import ZsbedError


def test_second_run_is_refused_while_the_first_holds_the_lock(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli.paths, "WORK", tmp_path)
    first = cli._lock_tree()
    with pytest.raises(ZsbedError, match=r"work/.lock: another zsbed run \(pid \d+\)"):
        cli._lock_tree()
    first.close()
    cli._lock_tree().close()


def test_bad_variant_fails_before_fetch_or_patch(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object) -> None:
        raise AssertionError("fetched despite a bad VARIANT=")
    monkeypatch.setattr(cli, "fetch", boom)
    args = cli.parser().parse_args(["build", "--variant", "nope"])
    with pytest.raises(ZsbedError, match=r"VARIANT=nope: no uml-config/nope.config"):
        cli.prepare(args)
