"""Ctrl-C or a full disk in fetch, patch, configure or build: the next run
recovers on its own. Each step is cut short here by a KeyboardInterrupt
raised where a real one would land (inside the tool zsbed runs), or by a
state file left truncated; the README records the same done live.
"""
from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from zsbed.kernel import build, configure, fetch, patch as zpatch
from zsbed.core.errors import ZsbedError
from zsbed.kernel.fetch import Tree

ORIG = "one\ntwo\nthree\n"
EDIT = "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n"
EDIT2 = "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,3 @@\n one\n two\n-three\n+THREE\n"


def _interrupt(*_: Any, **__: Any) -> None:
    raise KeyboardInterrupt


# -- patch --------------------------------------------------------------------

@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tree:
    monkeypatch.setattr(zpatch.paths, "WORK", tmp_path / "work")
    (tmp_path / "pristine").mkdir()
    (tmp_path / "pristine" / "f.c").write_text(ORIG)
    return Tree(path=tmp_path / "pristine", version="7.3.4", origin="test 1", managed=True)


def _apply(tree: Tree, text: str) -> Path:
    src, _ = zpatch.patch_tree(tree, [zpatch.Patch("p", text)])
    return src


def test_truncated_patch_state_redoes_the_copy(tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    src = _apply(tree, EDIT)
    state = src / zpatch.STATE
    state.write_text(state.read_text()[:20])          # a full disk or a kill mid-write
    capsys.readouterr()
    assert (_apply(tree, EDIT) / "f.c").read_text() == ORIG.replace("two", "TWO")
    err = capsys.readouterr().err
    assert "cannot be read (JSONDecodeError" in err and "hard-linked copy" in err


def test_ctrl_c_while_files_are_rewritten(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _apply(tree, EDIT)
    real_sync = zpatch.sync_tree

    def sync_then_interrupt(*args: Any) -> list[str]:
        real_sync(*args)                  # the tree now has the new series ...
        raise KeyboardInterrupt           # ... and the run stops before its state
    monkeypatch.setattr(zpatch, "sync_tree", sync_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        _apply(tree, EDIT2)
    monkeypatch.setattr(zpatch, "sync_tree", real_sync)
    # going back to the first series must not take the tree as unchanged
    assert (_apply(tree, EDIT) / "f.c").read_text() == ORIG.replace("two", "TWO")
    assert src.is_dir()


def test_ctrl_c_during_the_copy(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _apply(tree, EDIT)
    tree2 = Tree(path=tree.path, version="7.3.4", origin="test 2", managed=True)
    monkeypatch.setattr(zpatch.shutil, "rmtree", _interrupt)     # cut short while removing
    with pytest.raises(KeyboardInterrupt):
        _apply(tree2, EDIT)
    assert not (src / zpatch.STATE).exists()       # so the copy is never taken for good
    monkeypatch.undo()
    monkeypatch.setattr(zpatch.paths, "WORK", src.parent.parent)
    assert (_apply(tree2, EDIT) / "f.c").read_text() == ORIG.replace("two", "TWO")


def test_full_disk_during_the_copy_is_one_line(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    def cp(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "", "cp: cannot create directory "
                                           "'x/mm': No space left on device\n")
    monkeypatch.setattr(zpatch.subprocess, "run", cp)
    with pytest.raises(ZsbedError, match=r"work/src/debian: the disk is full \(cp: cannot "
                                         r"create directory 'x/mm': No space left on device\)"):
        _apply(tree, EDIT)


# -- configure ----------------------------------------------------------------

def _configure(ktree: Path, tmp: Path) -> str:
    frag = tmp / "f.config"
    frag.write_text("CONFIG_ZRAM=y\n")
    return configure.configure(ktree, "digest", "t", tmp / "b", [frag])


def _fake_merge(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    out = Path(cmd[cmd.index("-O") + 1])
    (out / ".config").write_text("".join(Path(f).read_text() for f in cmd[cmd.index("-O") + 2:]))
    return subprocess.CompletedProcess(cmd, 0)


def test_configure_cut_short_is_redone(ktree: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def merge(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return _fake_merge(cmd, **kw)
    monkeypatch.setattr(configure.subprocess, "run", merge)
    _configure(ktree, tmp_path)
    _configure(ktree, tmp_path)
    assert len(calls) == 1                              # unchanged: not merged again
    (tmp_path / "f.config").write_text("CONFIG_ZRAM=y\nCONFIG_ZSWAP=y\n")
    monkeypatch.setattr(configure.subprocess, "run", _interrupt)
    with pytest.raises(KeyboardInterrupt):
        configure.configure(ktree, "digest", "t", tmp_path / "b", [tmp_path / "f.config"])
    assert not (tmp_path / "b" / configure.STAMP).exists()
    monkeypatch.setattr(configure.subprocess, "run", merge)
    _configure(ktree, tmp_path)                          # the old fragments again: redone
    assert len(calls) == 2
    (tmp_path / "b" / configure.STAMP).write_text('{"dig')
    _configure(ktree, tmp_path)
    assert len(calls) == 3


# -- build --------------------------------------------------------------------

def test_build_stamp_goes_before_make_and_a_bad_one_is_stale(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bdir = tmp_path / "b"
    bdir.mkdir()
    (bdir / "linux").write_text("")
    calls: list[int] = []

    def make(*_: Any, **__: Any) -> None:
        calls.append(1)
    monkeypatch.setattr(build, "run_make", make)
    build.build_kernel(tmp_path, bdir, "fast", "d1", always=False)
    build.build_kernel(tmp_path, bdir, "fast", "d1", always=False)
    assert len(calls) == 1
    monkeypatch.setattr(build, "run_make", _interrupt)
    with pytest.raises(KeyboardInterrupt):
        build.build_kernel(tmp_path, bdir, "fast", "d2", always=False)
    assert not (bdir / build.STAMP).exists()     # back to d1: make runs, not "unchanged"
    monkeypatch.setattr(build, "run_make", make)
    build.build_kernel(tmp_path, bdir, "fast", "d1", always=False)
    (bdir / build.STAMP).write_bytes(b"\0\0\0")
    build.build_kernel(tmp_path, bdir, "fast", "d1", always=False)
    assert len(calls) == 3


@pytest.fixture
def sigint_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt, however the tests were started: a
    run started in the background (nohup, &) inherits SIGINT ignored, and
    Python then installs no handler for it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("sigint_raises")
def test_ctrl_c_lets_make_delete_what_it_was_writing(tmp_path: Path) -> None:
    """make gets SIGTERM and time to clean up before zsbed stops."""
    script = tmp_path / "make"
    script.write_text("#!/bin/sh\ntrap 'rm -f half.o; echo cleaned > done; kill $!; exit 2' TERM\n"
                      "echo partial > half.o\nsleep 30 &\nwait\n")
    script.chmod(0o755)
    main = threading.get_ident()

    def ctrl_c() -> None:               # SIGINT to the thread waiting for make
        _wait_for(tmp_path / "half.o")
        signal.pthread_kill(main, signal.SIGINT)
    threading.Thread(target=ctrl_c, daemon=True).start()
    start = time.monotonic()
    with (tmp_path / "log").open("w") as log, pytest.raises(KeyboardInterrupt):
        build.make(["sh", "-c", f"cd {tmp_path} && exec {script}"], log)
    assert (tmp_path / "done").read_text() == "cleaned\n"
    assert not (tmp_path / "half.o").exists()
    assert time.monotonic() - start < 10


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_guest_init_is_never_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build.paths, "BUILD", tmp_path)

    def gcc(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        Path(cmd[cmd.index("-o") + 1]).write_text("half")
        raise KeyboardInterrupt
    monkeypatch.setattr(build.subprocess, "run", gcc)
    with pytest.raises(KeyboardInterrupt):
        build.build_guest()
    assert not (tmp_path / "guest" / "zsbed-init").exists()

    def gcc_ok(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        Path(cmd[cmd.index("-o") + 1]).write_text("init")
        return subprocess.CompletedProcess(cmd, 0, "", "")
    monkeypatch.setattr(build.subprocess, "run", gcc_ok)
    assert build.build_guest().read_text() == "init"


# -- fetch --------------------------------------------------------------------

@pytest.fixture
def deb(tmp_path: Path) -> Path:
    """A tiny linux-source-7.3 .deb: a tree with only a 7.3.4 Makefile."""
    pkg = tmp_path / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "DEBIAN" / "control").write_text(
        "Package: linux-source-7.3\nVersion: 7.3.4-1~test\nArchitecture: all\n"
        "Maintainer: t <t@t>\nDescription: t\n")
    src = tmp_path / "src" / "linux-source-7.3"
    src.mkdir(parents=True)
    (src / "Makefile").write_text("VERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 4\n")
    (pkg / "usr" / "src").mkdir(parents=True)
    subprocess.run(["tar", "-cJf", str(pkg / "usr/src/linux-source-7.3.tar.xz"), "-C",
                    str(tmp_path / "src"), "linux-source-7.3"], check=True)
    out = tmp_path / "linux-source-7.3_7.3.4-1~test_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(pkg), str(out)],
                   check=True, capture_output=True)
    return out


def test_fetch_recovers_from_a_damaged_marker_a_cut_extraction_and_a_bad_deb(
        tmp_path: Path, deb: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "work"
    monkeypatch.setattr(fetch.paths, "WORK", work)
    monkeypatch.setattr(fetch, "pin", lambda: fetch.Pin(
        "linux-source-7.3", "trixie-backports", "7.3.4-1~test", fetch.sha256(deb)))
    (work / "apt").mkdir(parents=True)
    cached = work / "apt" / deb.name
    cached.write_bytes(deb.read_bytes())
    assert fetch.debian_tree().version == "7.3.4"
    marker = work / "linux-7.3" / fetch.MARKER
    marker.write_text('{"version": "7.')                  # truncated
    assert fetch.debian_tree().origin == "linux-source-7.3 7.3.4-1~test"
    assert "cannot be read" in capsys.readouterr().err

    # Ctrl-C in the middle of the extraction: nothing half-extracted stays
    real_run = subprocess.run

    def cut(cmd: list[str], **kw: Any) -> Any:
        if cmd[0] == "bash":
            (work / "linux-7.3.tmp" / "half").write_text("x")
            raise KeyboardInterrupt
        return real_run(cmd, **kw)
    marker.unlink()
    monkeypatch.setattr(fetch.subprocess, "run", cut)
    with pytest.raises(KeyboardInterrupt):
        fetch.debian_tree()
    assert not (work / "linux-7.3.tmp").exists() and not marker.exists()
    monkeypatch.setattr(fetch.subprocess, "run", real_run)
    assert fetch.debian_tree().version == "7.3.4"

    # a cached .deb that is not the pinned file is removed and downloaded again
    marker.unlink()
    cached.write_bytes(deb.read_bytes()[:300])
    monkeypatch.setattr(fetch, "download_deb",
                        lambda apt, want: Path(shutil.copy(deb, apt / deb.name)))
    capsys.readouterr()
    assert fetch.debian_tree().version == "7.3.4"
    assert "the file was removed: downloading it again" in capsys.readouterr().err


def test_download_cut_short_leaves_no_deb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apt = tmp_path / "apt"
    monkeypatch.setattr(fetch, "host_mirror", lambda: ("http://mirror.invalid/debian", "k"))

    def apt_get(cmd: list[str], cwd: Path | None = None, **_: Any) -> Any:
        if "update" in cmd:
            return subprocess.CompletedProcess(cmd, 0, "", "")
        assert "download" in cmd and cwd is not None
        (cwd / "linux-source-7.3_7.3.4-1_all.deb").write_text("half")
        raise KeyboardInterrupt
    monkeypatch.setattr(fetch.subprocess, "run", apt_get)
    with pytest.raises(KeyboardInterrupt):
        fetch.download_deb(apt, fetch.Pin("linux-source-7.3", "s", "7.3.4-1", "0" * 64))
    assert not list(apt.glob("*.deb"))                   # only in download.tmp/


def test_a_symlinked_pristine_tree_is_never_patched(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """work/linux-7.3 may be a symlink to a shared tree: the copy is of the
    tree it points to, and the series lands in the copy only (it once
    landed in the shared tree, through a copied symlink)."""
    monkeypatch.setattr(zpatch.paths, "WORK", tmp_path / "work")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "f.c").write_text(ORIG)
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "linux").symlink_to(tmp_path / "shared")
    tree = Tree(path=tmp_path / "work" / "linux", version="7.3.4", origin="test 1", managed=True)
    src = _apply(tree, EDIT)
    assert not src.is_symlink() and (src / "f.c").read_text() == ORIG.replace("two", "TWO")
    assert (tmp_path / "shared" / "f.c").read_text() == ORIG
    assert sorted(p.name for p in (tmp_path / "shared").iterdir()) == ["f.c"]


def test_a_patched_tree_that_is_a_symlink_is_refused(tree: Tree) -> None:
    src = zpatch.paths.WORK / "src" / "debian"
    src.parent.mkdir(parents=True)
    src.symlink_to(tree.path)
    (tree.path / zpatch.STATE).write_text('{"snapshot": "test 1", "digest": "", "files": []}')
    with pytest.raises(ZsbedError, match="must stay pristine"):
        _apply(tree, EDIT)
    assert (tree.path / "f.c").read_text() == ORIG


def test_a_stale_patched_tree_that_is_a_symlink_is_replaced(tree: Tree) -> None:
    src = zpatch.paths.WORK / "src" / "debian"
    src.parent.mkdir(parents=True)
    src.symlink_to(tree.path)
    assert (_apply(tree, EDIT) / "f.c").read_text() == ORIG.replace("two", "TWO")
    assert not src.is_symlink()
    assert sorted(p.name for p in tree.path.iterdir()) == ["f.c"]
    assert (tree.path / "f.c").read_text() == ORIG
