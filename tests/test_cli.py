"""Command-line guards: one run per checkout, bad variants fail first."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed.cli import cli
from zsbed.cli.args import request
from zsbed.kernel import fetch as kfetch, prepared
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
    monkeypatch.setattr(kfetch, "fetch", boom)
    args = cli.parser().parse_args(["build", "--variant", "nope"])
    with pytest.raises(ZsbedError, match=r"VARIANT=nope: no uml-config/nope.config"):
        prepared.prepare(request(args))


def test_output_cut_short_by_its_reader_is_no_error() -> None:
    """make variants | head: a reader that went away is not an internal error."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run(f"{sys.executable} -m zsbed variants | true",
                          shell=True, cwd=repo, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo)})
    assert "BrokenPipe" not in done.stderr and "internal error" not in done.stderr, done.stderr


def test_a_command_cut_short_by_a_closed_pipe_is_not_a_success() -> None:
    """Output larger than the pipe's buffer breaks the pipe while the command
    still runs: it did not finish, so it exits 128 + SIGPIPE, not 0."""
    import subprocess

    repo = Path(__file__).resolve().parent.parent
    script = ("import sys\n"
              "from zsbed.cli import boot_cmds, cli\n"
              "def big(args):\n"
              "    for _ in range(100000):\n"
              "        print('x' * 80)\n"
              "    return 0\n"
              "boot_cmds.cmd_variants = big\n"
              "sys.exit(cli.main(['variants']))\n")
    done = subprocess.run(["bash", "-c", 'python3 -c "$0" | head -c 1 >/dev/null; '
                           'echo "${PIPESTATUS[0]}"', script],
                          cwd=repo, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo)})
    assert done.stdout.strip() == "141", (done.stdout, done.stderr)
    assert "BrokenPipe" not in done.stderr and "internal error" not in done.stderr
