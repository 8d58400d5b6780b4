"""The configure stage's fragment loader and survival check."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed.kernel import configure
from zsbed.core.errors import ZsbedError


def test_later_fragment_wins_and_not_set_is_n(ktree: Path, tmp_path: Path) -> None:
    a = tmp_path / "base.config"
    b = tmp_path / "kasan.config"
    a.write_text("# base\nCONFIG_ZRAM=y\nCONFIG_KASAN=y\n")
    b.write_text("# CONFIG_KASAN is not set\nCONFIG_NR_CPUS=2\n")
    wanted = configure.requested(ktree, [a, b])
    assert wanted == {"ZRAM": ("y", a), "KASAN": ("n", b), "NR_CPUS": ("2", b)}


def test_bad_fragment_line_names_the_file(ktree: Path, tmp_path: Path) -> None:
    a = tmp_path / "broken.config"
    a.write_text("CONFIG_ZRAM=y\nZRAM=y\n")
    with pytest.raises(ZsbedError, match=r"broken.config:2: Failed to parse: ZRAM=y"):
        configure.requested(ktree, [a])


def test_missing_options_name_option_and_fragment(tmp_path: Path) -> None:
    frag = tmp_path / "smp.config"
    wanted = {"SMP": ("y", frag), "KASAN": ("n", frag), "NR_CPUS": ("2", frag)}
    final = {"SMP": "y", "NR_CPUS": "1"}
    assert configure.missing_options(wanted, final) == [
        "CONFIG_NR_CPUS=2 (from smp.config) is 1 in the final .config"]
    assert configure.missing_options({"ZRAM": ("y", frag)}, {}) == [
        "CONFIG_ZRAM=y (from smp.config) is not set in the final .config"]


def test_unknown_variant_lists_the_known_ones() -> None:
    with pytest.raises(ZsbedError, match=r"VARIANT=nope: no uml-config/nope.config \(variants: .*fast"):
        configure.fragments("nope")
