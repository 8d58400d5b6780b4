"""The selftest plan loader and the variant directives."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed.kernel import configure
from zsbed.plan import plan
from zsbed.core.errors import ZsbedError

REPO = Path(__file__).resolve().parent.parent
PROGRAMS = ("zram_swap", "zram_slot_flags", "swap_release", "zram_reset_pending",
            "zswap_invalidate", "leak_scan", "migrate_coherence")
PROGS = {"swap_release": Path("/b/swap_release"), "leak_scan": Path("/b/leak_scan")}


def _plan(tmp: Path, text: str) -> Path:
    d = tmp / "zsmalloc"
    d.mkdir(exist_ok=True)
    (d / "plan.toml").write_text(text)
    return d / "plan.toml"


def test_sizes_per_variant_and_default(tmp_path: Path) -> None:
    p = _plan(tmp_path, '[sizes.default]\nmib = 32\n[sizes.deep]\nmib = 2\n'
                        '[[run]]\nname = "n2"\nprogram = "swap_release"\nargs = ["-m", "{mib}"]\n'
                        '[[run]]\nname = "leak_scan"\ntimeout = 10\n')
    deep = plan.load(p, "deep", PROGS, timeout_scale=5)
    assert [(x.name, x.argv, x.timeout) for x in deep] == [
        ("selftests.zsmalloc.n2", ("/b/swap_release", "-m", "2"), 300),
        ("selftests.zsmalloc.leak_scan", ("/b/leak_scan",), 50)]
    assert plan.load(p, "fast", PROGS)[0].argv[-1] == "32"


@pytest.mark.parametrize("body, message", [
    ('[[run]]\nname = "x"\nprogram = "nope"\n', r"#1 \(x\): program 'nope' is not in TEST_GEN_PROGS"),
    ('[[run]]\nname = "a b"\n', r"#1: 'name' must be a word"),
    ('[[run]]\nname = "leak_scan"\n[[run]]\nname = "leak_scan"\n', r"#2: name 'leak_scan' used twice"),
    ('[[run]]\nname = "leak_scan"\nargs = "-m 3"\n', r"'args' must be a list of strings"),
    ('[[run]]\nname = "leak_scan"\nargs = ["{gib}"]\n', r"no size 'gib' in \[sizes.fast\]"),
    ('[[run]]\nname = "leak_scan"\ntimeout = -1\n', r"'timeout' must be a positive integer"),
    ('[[run]]\nname = "leak_scan"\nretries = 3\n', r"unknown key 'retries'"),
    ('[[run]\nname = "x"\n', r"plan.toml: "),
    ('[sizes]\n', r"no \[\[run\]\] entries"),
])
def test_malformed_plan_names_file_entry_and_reason(tmp_path: Path, body: str, message: str) -> None:
    p = _plan(tmp_path, body)
    with pytest.raises(ZsbedError, match=message) as err:
        plan.load(p, "fast", PROGS)
    assert "plan.toml" in str(err.value) and "\n" not in str(err.value)


def test_real_plan_loads_for_every_variant() -> None:
    real = Path(__file__).resolve().parent.parent / "selftests/zsmalloc/plan.toml"
    progs = {n: Path(f"/b/{n}") for n in PROGRAMS}
    for variant in configure.variants():
        assert plan.load(real, variant, progs)


def test_variant_directives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(configure.paths, "UML_CONFIG", tmp_path)
    (tmp_path / "base.config").write_text("CONFIG_ZRAM=y\n")
    (tmp_path / "deep.config").write_text("# zsbed-boot: kmemleak=on\n# zsbed-timeout-scale: 10\n"
                                          "# zsbed-boot: slub_debug=FZP\n")
    assert configure.variant_meta("deep") == {"boot": "kmemleak=on slub_debug=FZP",
                                              "timeout-scale": "10"}
    (tmp_path / "bad.config").write_text("# zsbed-timeout-scale: fast\n")
    with pytest.raises(ZsbedError, match=r"bad.config:1: zsbed-timeout-scale must be a positive"):
        configure.variant_meta("bad")
    (tmp_path / "typo.config").write_text("CONFIG_X=y\n# zsbed-bot: x\n")
    with pytest.raises(ZsbedError, match=r"typo.config:2: unknown directive 'zsbed-bot'"):
        configure.variant_meta("typo")


def test_saved_cases_match_the_plan(data: Path) -> None:
    """The saved real runs ran exactly the plan's programs: refresh them
    (make test-data) when the plan changes."""
    import json

    ids = json.loads((data / "case-ids.json").read_text())
    real = plan.load(REPO / "selftests" / "zsmalloc" / "plan.toml", "fast",
                     {n: Path(f"/b/{n}") for n in PROGRAMS})
    want = {p.name for p in real}
    for variant in ("fast", "deep"):
        saved = {n.rsplit(".", 1)[0] for n in ids["plan"][variant] if n.endswith(".exit")}
        assert saved == want, variant


def test_program_names_read_without_building_match_the_makefile(ktree: Path) -> None:
    """preflight checks plans against the Makefile's programs before the build;
    they must be what the build's own listing (print-progs) says."""
    import subprocess

    from zsbed.kernel import build

    out = subprocess.run(["make", "-s", "--no-print-directory", "-C",
                          str(REPO / "selftests" / "zsmalloc"), f"KSRC={ktree}", "OUTPUT=/o",
                          "print-progs"], capture_output=True, text=True, check=True).stdout
    assert [p.name for p in build.selftest_programs().values()] == [
        Path(p).name for p in out.split()]
