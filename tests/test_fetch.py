"""The fetch stage's mirror discovery and tree validation."""
from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from zsbed.kernel import fetch
from zsbed.core.errors import ZsbedError


def test_mirror_from_deb822(tmp_path: Path) -> None:
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (d / "other.sources").write_text("Types: deb\nURIs: https://example.invalid/node\nSuites: x\n")
    (d / "debian.sources").write_text(
        "Types: deb\n# comment\nURIs: http://mirror.invalid/debian/\nSuites: bookworm\n"
        "Components: main\nSigned-By: /usr/share/keyrings/k.gpg\n\n"
        "Types: deb\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\n")
    assert fetch.host_mirror((tmp_path / "none.list", d)) == (
        "http://mirror.invalid/debian", "/usr/share/keyrings/k.gpg")


def test_mirror_from_one_line_sources(tmp_path: Path) -> None:
    f = tmp_path / "sources.list"
    f.write_text("# deb http://old.invalid/debian x main\n"
                 "deb [arch=amd64] http://mirror.invalid/debian bookworm main\n")
    assert fetch.host_mirror((f,))[0] == "http://mirror.invalid/debian"


def test_no_debian_mirror_is_one_line_error(tmp_path: Path) -> None:
    f = tmp_path / "sources.list"
    f.write_text("deb http://archive.invalid/ubuntu jammy main\n")
    with pytest.raises(ZsbedError, match="no Debian archive"):
        fetch.host_mirror((f,))


def test_ksrc_must_be_7_3(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 1\n")
    with pytest.raises(ZsbedError, match=r"Linux 6.12.1; zsbed needs 7.3.x"):
        fetch.user_tree(str(tmp_path))
    with pytest.raises(ZsbedError, match="no such directory"):
        fetch.user_tree(str(tmp_path / "nope"))


# -- the pinned kernel: version and sha256, the snapshot archive's fallback --

def _pin(content: bytes, version: str = "7.3.9-1~bpo13+1") -> fetch.Pin:
    return fetch.Pin("linux-source-7.3", "trixie-backports", version,
                     hashlib.sha256(content).hexdigest())


def _fake_snapshot(root: Path, want: fetch.Pin, content: bytes) -> str:
    """A snapshot archive on disk: the binfiles index and the file by its sha1."""
    sha1 = hashlib.sha1(content).hexdigest()
    index = root / "mr/binary" / want.package / want.version / "binfiles"
    index.parent.mkdir(parents=True)
    index.write_text(json.dumps({"result": [{"architecture": "all", "hash": sha1}]}))
    (root / "file").mkdir()
    (root / "file" / sha1).write_bytes(content)
    return root.as_uri()


def test_a_version_gone_from_the_archive_comes_from_the_snapshot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = b"a .deb"
    want = _pin(content)
    monkeypatch.setenv("ZSBED_SNAPSHOT", _fake_snapshot(tmp_path / "snap", want, content))
    monkeypatch.setattr(fetch, "_apt_download", lambda w, a, s: None)
    deb = fetch.download_deb(tmp_path / "apt", want)
    assert deb == tmp_path / "apt" / "linux-source-7.3_7.3.9-1~bpo13+1_all.deb"
    assert deb.read_bytes() == content


def test_a_wrong_sum_is_one_line_naming_both(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    want = _pin(b"what was pinned")
    monkeypatch.setenv("ZSBED_SNAPSHOT", _fake_snapshot(tmp_path / "snap", want, b"other"))
    monkeypatch.setattr(fetch, "_apt_download", lambda w, a, s: None)
    with pytest.raises(ZsbedError) as err:
        fetch.download_deb(tmp_path / "apt", want)
    got = hashlib.sha256(b"other").hexdigest()
    assert str(err.value) == (f"linux-source-7.3_7.3.9-1~bpo13+1_all.deb: sha256 {got}, but "
                              f"patches/kernel.toml pins {want.sha256}; the file was removed")
    assert not list((tmp_path / "apt").rglob("*.deb"))


def test_apt_saying_the_version_is_gone_is_not_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "host_mirror", lambda: ("http://mirror.invalid/debian", "k"))
    ok = subprocess.CompletedProcess([], 0, "", "")
    gone = subprocess.CompletedProcess([], 100, "", "E: Version '7.3.9-1~bpo13+1' for "
                                       "'linux-source-7.3' was not found\n")
    suite_gone = subprocess.CompletedProcess([], 100, "", "E: The repository 'x trixie-"
                                             "backports Release' does not have a Release "
                                             "file.\n")

    def apt(answers: list[subprocess.CompletedProcess[str]]) -> None:
        def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
            assert kw["env"]["LC_ALL"] == "C"             # type: ignore[index]
            return answers.pop(0)
        monkeypatch.setattr(fetch.subprocess, "run", run)
    (tmp_path / "s").mkdir()
    apt([ok, gone])
    assert fetch._apt_download(_pin(b""), tmp_path, tmp_path / "s") is None
    apt([suite_gone])
    assert fetch._apt_download(_pin(b""), tmp_path, tmp_path / "s") is None
    broken = subprocess.CompletedProcess([], 100, "", "E: Failed to fetch x  403 Forbidden\n")
    apt([ok, broken])
    with pytest.raises(ZsbedError, match="apt-get download linux-source-7.3=7.3.9-1~bpo13.1 "
                                         "failed: E: Failed to fetch x  403 Forbidden"):
        fetch._apt_download(_pin(b""), tmp_path, tmp_path / "s")


def test_the_pin_in_the_repository_and_a_bad_one(tmp_path: Path) -> None:
    pinned = fetch.pin()
    assert pinned.package == "linux-source-7.3" and pinned.version.startswith("7.3.")
    bad = tmp_path / "kernel.toml"
    bad.write_text('package = "linux-source-7.3"\nsuite = "s"\nversion = "7.3.4-1"\n'
                   'sha256 = "abc"\n')
    with pytest.raises(ZsbedError, match=r"kernel.toml: 'sha256' must be a string matching "
                                         r"\[0-9a-f\]\{64\}, not 'abc'"):
        fetch.pin(bad)


def test_the_snapshot_archive_s_address_is_never_zsbed_s_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ZSBED_SNAPSHOT, else the host's apt sources' snapshot entry, else one line."""
    monkeypatch.delenv("ZSBED_SNAPSHOT", raising=False)
    plain = tmp_path / "plain.list"
    plain.write_text("deb http://mirror.invalid/debian bookworm main\n")
    with pytest.raises(ZsbedError, match="no Debian snapshot archive known here .* set "
                                         "ZSBED_SNAPSHOT"):
        fetch.snapshot_base((plain,))
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (d / "snap.sources").write_text("Types: deb\nURIs: https://snap.invalid/archive/debian/"
                                    "20261201T000000Z/\nSuites: trixie-backports\n")
    assert fetch.snapshot_base((plain, d)) == "https://snap.invalid"
    monkeypatch.setenv("ZSBED_SNAPSHOT", "file:///x/")
    assert fetch.snapshot_base((plain, d)) == "file:///x"
