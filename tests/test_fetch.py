"""The fetch stage's mirror discovery and tree validation."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed import fetch
from zsbed.errors import ZsbedError


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
