"""Atomic writes, damaged state, and a full disk: one line naming the path.

A full disk is faked here (os.fsync, statvfs or a tool's output saying
ENOSPC); the README's "Bad input" section records the same on a real
tmpfs that zsbed filled.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from zsbed.core import disk
from zsbed.core.errors import ZsbedError


def _enospc(*_: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_write_is_atomic_and_leaves_no_temporary(tmp_path: Path) -> None:
    f = tmp_path / "state.json"
    disk.write_json(f, {"digest": "a"})
    disk.write_json(f, {"digest": "b"})
    assert disk.read_state(f, "t") == {"digest": "b"}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_full_disk_keeps_the_old_file_and_names_the_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "summary.json"
    f.write_text("old\n")
    monkeypatch.setattr(disk.os, "fsync", _enospc)
    with pytest.raises(ZsbedError) as err:
        disk.write_text(f, "new\n")
    assert str(err.value) == (f"{f}: the disk is full (no space left on device); "
                              f"free some space and run again")
    assert f.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_writing_names_the_file_the_error_names(tmp_path: Path) -> None:
    with pytest.raises(ZsbedError, match=r"^/nonexistent/x: No such file or directory$"):
        with disk.writing(tmp_path):
            Path("/nonexistent/x").write_text("x")
    with pytest.raises(ZsbedError, match=rf"^{tmp_path}: the disk is full"):
        with disk.writing(tmp_path):
            _enospc()


@pytest.mark.parametrize("content, why", [
    (b'{"digest": "ab', "JSONDecodeError"),          # truncated by a full disk or a kill
    (b"", "JSONDecodeError"),
    (b"\xff\xfe", "UnicodeDecodeError"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"other": 1}', "no 'digest'"),
])
def test_unreadable_state_is_stale_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            content: bytes, why: str) -> None:
    f = tmp_path / ".zsbed-build.json"
    f.write_bytes(content)
    assert disk.read_state(f, "build", ("digest",)) is None
    err = capsys.readouterr().err
    assert err.startswith(f"zsbed: [build] {f} cannot be read (") and why in err
    assert "treating it as stale, redoing this step" in err and err.count("\n") == 1
    assert disk.read_state(tmp_path / "absent.json", "build") is None
    assert capsys.readouterr().err == ""


def test_check_full_by_free_space_or_by_what_the_tool_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    disk.check_full("make: *** [Makefile:1: x] Error 1", tmp_path)       # room: not the disk
    with pytest.raises(ZsbedError, match=r": the disk is full \(cc1: error writing to "
                                         r"/tmp/x.s: No space left on device\)"):
        disk.check_full("cc1: error writing to /tmp/x.s: No space left on device\n", tmp_path)
    monkeypatch.setattr(disk, "free_bytes", lambda p: 12 * 1024 if p == tmp_path else 10**9)
    with pytest.raises(ZsbedError, match=rf"^{tmp_path}: the disk is full \(12 KiB free\) "
                                         r"during x; free some space"):
        disk.check_full("", tmp_path, during=" during x")


def test_free_bytes_of_a_path_not_made_yet(tmp_path: Path) -> None:
    free = disk.free_bytes(tmp_path / "a" / "b")
    st = os.statvfs(tmp_path)
    want = (st.f_bfree if os.geteuid() == 0 else st.f_bavail) * st.f_frsize
    assert free is not None and abs(free - want) < 1 << 30


def test_a_copy_that_fills_the_disk_names_its_destination(tmp_path: Path) -> None:
    exc = OSError(errno.ENOSPC, "No space left on device")
    exc.filename, exc.filename2 = "/tmp/scratch/MAINTAINERS", "work/src/debian/MAINTAINERS"
    assert str(disk.write_error(tmp_path, exc)).startswith(
        "work/src/debian/MAINTAINERS: the disk is full (no space left on device)")
