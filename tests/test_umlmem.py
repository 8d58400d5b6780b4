"""Where UML's memory goes: an exec-capable directory with room, tmpfs first,
or one line naming what each candidate lacked (as in a Docker container,
whose /dev/shm is noexec)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zsbed.machine import boot, umlmem
from zsbed.core.errors import ZsbedError

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fresh() -> None:
    umlmem.choose.cache_clear()


def test_a_plain_directory_takes_an_executable_mapping(tmp_path: Path) -> None:
    assert umlmem.problem(tmp_path, 4096) == ""


def test_a_directory_without_room_is_refused(tmp_path: Path) -> None:
    assert "MiB free, the boot needs" in umlmem.problem(tmp_path, 1 << 62)
    assert umlmem.problem(tmp_path / "nope", 1) == "no such directory"


def test_uml_order_the_first_variable_set_wins() -> None:
    env = {"TMP": "/b", "TEMP": "/c"}
    assert umlmem.candidates(env) == [("TMP", Path("/b")), ("/dev/shm", Path("/dev/shm")),
                                      ("/tmp", Path("/tmp"))]


def test_tmpfs_is_preferred_and_none_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    disk, shm = tmp_path / "disk", tmp_path / "shm"
    disk.mkdir()
    shm.mkdir()
    monkeypatch.setattr(umlmem, "CANDIDATES", (str(disk), str(shm)))
    monkeypatch.delenv("TMPDIR", raising=False)
    monkeypatch.delenv("TMP", raising=False)
    monkeypatch.delenv("TEMP", raising=False)
    monkeypatch.setattr(umlmem, "fs_type", lambda p: "tmpfs" if p == shm else "ext4")
    assert umlmem.choose(4096) == shm
    umlmem.choose.cache_clear()
    monkeypatch.setattr(umlmem, "fs_type", lambda p: "ext4")
    assert umlmem.choose(4096) == disk        # no tmpfs: a disk directory still works
    umlmem.choose.cache_clear()
    monkeypatch.setattr(umlmem, "problem", lambda p, n: "mounted noexec (x)")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with pytest.raises(ZsbedError) as err:
        umlmem.choose(4096)
    line = str(err.value)
    assert "\n" not in line
    assert f"TMPDIR={tmp_path}: mounted noexec" in line and f"{shm}: mounted noexec" in line
    assert "mount -t tmpfs" in line


def test_the_boot_passes_the_choice_to_uml(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    monkeypatch.setattr(umlmem, "choose", lambda need: tmp_path)

    class Uml:
        class target:
            name = "uml"
    env = boot.uml_env(Uml(), ["linux", "mem=512M"])      # type: ignore[arg-type]
    assert env is not None and env["TMPDIR"] == str(tmp_path)


def test_the_room_asked_for_is_the_boot_s_last_mem() -> None:
    assert boot.mem_bytes(["linux", "mem=512M", "mem=2304M"]) == 2304 << 20
    assert boot.mem_bytes(["linux"]) == boot.MEM_BYTES
    assert boot.mem_bytes(["mem=2G"]) == 2 << 30


def test_a_working_tmpdir_wins_over_tmpfs(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(umlmem, "fs_type", lambda p: "tmpfs" if str(p) == "/dev/shm" else "ext4")
    assert umlmem.choose(4096) == tmp_path


def test_an_unwritable_directory_is_not_called_noexec(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    tmp_path.chmod(0o500)
    assert umlmem.problem(tmp_path, 1).startswith("cannot create a file there")


def _can_unshare() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare -m (a mount namespace)")
def test_noexec_shm_as_docker_mounts_it(tmp_path: Path) -> None:
    """Real mounts, in a private mount namespace: /dev/shm and a second
    candidate noexec (Docker's /dev/shm), then an exec tmpfs named by
    TMPDIR. Nothing is mounted over the checkout or /tmp."""
    other, good = tmp_path / "other", tmp_path / "good"
    other.mkdir()
    good.mkdir()
    probe = (f"import sys; sys.path.insert(0, {str(REPO)!r}); from zsbed.machine import umlmem\n"
             f"umlmem.CANDIDATES = ('/dev/shm', {str(other)!r})\n"
             "try:\n    print(umlmem.choose(1 << 20))\n"
             "except Exception as e:\n    print('ERROR', e)\n")
    script = ("set -e; mount --make-rprivate /; "
              "mount -t tmpfs -o noexec,size=64m tmpfs /dev/shm; "
              f"mount -t tmpfs -o noexec tmpfs {other}; "
              f"env -u TMPDIR -u TMP -u TEMP {sys.executable} -c \"$0\"; "
              f"mount -t tmpfs -o exec,size=8m tmpfs {good}; "
              f"TMPDIR={good} {sys.executable} -c \"$0\"")
    out = subprocess.run(["unshare", "-m", "sh", "-c", script, probe], capture_output=True,
                         text=True, timeout=60)
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stderr
    assert lines[0].startswith("ERROR no directory for UML's memory (/dev/shm: mounted noexec"), lines
    assert f"{other}: mounted noexec" in lines[0]
    assert lines[1] == str(good)
