"""The boot stage's wait: exit, timeout, and a kernel that stalls."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from zsbed.machine import boot
from zsbed.machine.boot import Boot

STALL = "rcu: INFO: rcu_sched self-detected stall on CPU"


def _start(tmp: Path, script: str) -> tuple[subprocess.Popen[bytes], Boot]:
    out = tmp / "ktap"
    out.mkdir()
    result = Boot(name="main", console=tmp / "console.log", outdir=out)
    with result.console.open("wb") as log:
        proc = subprocess.Popen(["sh", "-c", script], stdout=log, cwd=out)
    return proc, result


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boot, "STALL_GRACE", 1.0)
    monkeypatch.setattr(boot, "POLL", 0.05)


def test_stall_without_progress_is_killed_early(tmp_path: Path) -> None:
    proc, result = _start(tmp_path, f"echo booting; echo '{STALL}'; sleep 30")
    start = time.monotonic()
    try:
        boot.wait(proc, result, timeout=30)
    finally:
        proc.kill()
    assert result.timed_out and result.stalled == STALL
    assert time.monotonic() - start < 10


def test_stall_then_progress_is_not_killed(tmp_path: Path) -> None:
    # a program finishes (a status line) after the report: the kernel recovered
    script = f"echo '{STALL}'; sleep 0.5; echo 'prog 0 100' > status; sleep 1.5; echo done"
    proc, result = _start(tmp_path, script)
    boot.wait(proc, result, timeout=30)
    assert (result.exit_code, result.timed_out, result.stalled) == (0, False, "")


def test_plain_timeout(tmp_path: Path) -> None:
    proc, result = _start(tmp_path, "echo quiet; sleep 30")
    try:
        boot.wait(proc, result, timeout=0.5)
    finally:
        proc.kill()
    assert result.timed_out and not result.stalled


def test_stall_line_split_across_reads(tmp_path: Path) -> None:
    console = tmp_path / "c.log"
    console.write_bytes(b"ok\nrcu: INFO: rcu_sched self-det")
    line, offset = boot._stall_line(console, 0)
    assert (line, offset) == ("", 3)
    console.write_bytes(b"ok\nrcu: INFO: rcu_sched self-detected stall on CPU\nmore\n")
    assert boot._stall_line(console, offset)[0] == STALL
