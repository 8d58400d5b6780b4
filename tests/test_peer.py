"""make peer: upstream cases on base and series, decided by verdict.peer_cases."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed.peer import peer
from zsbed.verdict import verdict
from zsbed.core.errors import ZsbedError
from zsbed.plan.parse import Case


def _one(base: str, series: str, known: str | None = None, flaky: bool = False) -> Case:
    cases, _ = verdict.peer_cases({"c.t.x": (base, "")}, {"c.t.x": (series, "")},
                                  {"c.t.x": verdict.Known(known, flaky)} if known else {})
    assert [c.name for c in cases] == ["peer.c.t.x"]
    return cases[0]


@pytest.mark.parametrize("base, series, known, outcome, why", [
    ("passed", "passed", None, "passed", ""),
    ("passed", "failed", None, "failed", "fails only with the series"),
    ("skipped", "failed", None, "failed", "fails only with the series"),
    ("failed", "failed", None, "failed", "not a listed upstream failure"),
    ("failed", "failed", "memcg flush", "skipped", "upstream failure, fails on base too"),
    ("passed", "failed", "memcg flush", "failed", "take it off"),
    ("passed", "passed", "memcg flush", "failed", "take it off"),
    ("failed", "passed", "memcg flush", "passed", "passes with the series"),
    ("skipped", "skipped", None, "skipped", "skips on both"),
    ("passed", "skipped", None, "failed", "skips only with the series"),
    ("error", "error", None, "failed", "not a listed upstream failure"),
    ("passed", "error", None, "failed", "fails only with the series"),
])
def test_each_pair_of_outcomes(base: str, series: str, known: str | None, outcome: str,
                               why: str) -> None:
    case = _one(base, series, known)
    assert case.outcome == outcome
    assert why in case.message
    assert case.message.startswith(f"base {base}, series {series}")


@pytest.mark.parametrize("base, series, outcome", [
    ("passed", "passed", "passed"), ("failed", "passed", "skipped"),
    ("passed", "failed", "skipped"), ("failed", "failed", "skipped")])
def test_a_listed_flake_is_a_skip_with_its_reason_whenever_it_fails(base: str, series: str,
                                                                    outcome: str) -> None:
    case = _one(base, series, "writeback timing", flaky=True)
    assert case.outcome == outcome
    assert (outcome == "skipped") == ("known upstream flake" in case.message)


def test_a_case_on_one_kernel_only_fails_and_a_listed_case_that_never_ran_fails() -> None:
    cases, rows = verdict.peer_cases({"a": ("passed", ""), "b": ("passed", "")},
                                     {"a": ("passed", "")}, {"gone": verdict.Known("was flaky")})
    out = {c.name: c for c in cases}
    assert out["peer.a"].outcome == "passed"
    assert out["peer.b"].outcome == "failed" and "only one kernel" in out["peer.b"].message
    assert out["peer.gone"].outcome == "failed" and "no such case ran" in out["peer.gone"].message
    assert [r["case"] for r in rows] == ["a", "b", "gone"]


ZRAM_OUT = """--------------------
running zram tests
--------------------
create '1' zram device(s)
zram modules already loaded, kernel supports zram-control interface
mount /dev/zram1
FAIL mount /dev/zram1 failed
fill zram1...
FAIL compression ratio: 0.31:1
zram cleanup
zram01 : [FAIL]

create '1' zram device(s)
zram making zram mkswap and swapon: OK
zram02 : [PASS]
"""


def test_zram_sh_cases_come_from_its_pass_fail_lines() -> None:
    out = peer.zram_cases(ZRAM_OUT)
    assert out["zram01"][0] == "failed" and "FAIL mount /dev/zram1 failed" in out["zram01"][1]
    assert out["zram02"] == ("passed", "")
    # cut short (timeout): zram02 never printed its line
    cut = peer.zram_cases(ZRAM_OUT.split("create '1'")[0] + "create '1' ...\nzram01 : [PASS]\n")
    assert cut["zram01"][0] == "passed" and cut["zram02"][0] == "error"


def test_kernel_outcomes_name_cases_by_suite(tmp_path: Path) -> None:
    ktap = tmp_path / "peer.base.zram.ktap"
    ktap.write_text(ZRAM_OUT)
    cases = [Case("peer.base.cgroup_test_zswap.test_zswap_usage", "failed", 1.0, "x"),
             Case("peer.base.cgroup_test_zswap.exit", "failed", 9.0),
             Case("peer.base.mm_cow.exit", "error", None, "did not finish"),
             Case("peer.base.zram.exit", "passed", 12.0),
             Case("peer.base.setup.exit", "passed", 0.1)]
    out = peer.kernel_outcomes(cases, "base", tmp_path)
    assert out["cgroup.test_zswap.test_zswap_usage"] == ("failed", "x")
    # a KTAP suite's exit sums up its cases, unless it did not finish
    assert "cgroup.test_zswap.exit" not in out
    assert out["mm.cow.exit"][0] == "error"
    assert out["zram.zram01"][0] == "failed" and out["zram.zram02"][0] == "passed"
    assert out["zram.exit"][0] == "passed"
    assert not any(k.startswith("setup") for k in out)


def test_failures_file_is_checked(tmp_path: Path) -> None:
    f = tmp_path / "f.toml"
    f.write_text('[[failure]]\ncase = "a"\nreason = "why"\n'
                 '[[failure]]\ncase = "b"\nreason = "timing"\nflaky = true\n')
    assert peer.load_failures(f) == {"a": verdict.Known("why"), "b": verdict.Known("timing", True)}
    for bad in ('[[failure]]\ncase = "a"\n', '[[failure]]\ncase = "a"\nreason = ""\n',
                '[[failure]]\ncase = "a"\nreason = "x"\nflaky = 1\n',
                '[[failure]]\ncase = "a"\nreason = "x"\nwhy = "y"\n',
                '[[failure]]\ncase = "a"\nreason = "x"\n[[failure]]\ncase = "a"\nreason = "y"\n',
                'failures = 1\n'):
        f.write_text(bad)
        with pytest.raises(ZsbedError, match="f.toml"):
            peer.load_failures(f)


def test_the_real_failures_file_loads() -> None:
    peer.load_failures()


def test_plan_runs_zram_then_the_swap_set_up_then_cgroup(tmp_path: Path) -> None:
    progs = peer.plan(tmp_path, tmp_path / "inst", tmp_path / "peer_setup", "series")
    assert [p.name for p in progs] == ["peer.series.zram", "peer.series.setup",
                                       "peer.series.cgroup_test_zswap",
                                       "peer.series.cgroup_test_memcontrol", "peer.series.mm_cow"]
    assert all(p.timeout == peer.KSFT_TIMEOUT * peer.UML_TIMEOUT_SCALE
               for p in progs if p.name != "peer.series.setup")
    (tmp_path / "tools/testing/selftests/zram").mkdir(parents=True)
    (tmp_path / "tools/testing/selftests/zram/settings").write_text("timeout=120\n")
    assert peer.timeout(tmp_path, "zram") == 120 * peer.UML_TIMEOUT_SCALE


def test_saved_real_runs_give_every_upstream_case(ktree: Path, data: Path,
                                                  tmp_path: Path) -> None:
    """make peer's own output (results of a run here): zram.sh's text and
    test_zswap's KTAP become zram.zram01/02 and cgroup.test_zswap.<case>."""
    from zsbed.plan.parse import parse_ktap

    (tmp_path / "peer.series.zram.ktap").write_text((data / "peer-zram.ktap").read_text())
    cases = parse_ktap(ktree, (data / "peer-test_zswap.ktap").read_text().splitlines(),
                       "peer.series.cgroup_test_zswap")
    cases += [Case("peer.series.cgroup_test_zswap.exit", "passed", 12.0),
              Case("peer.series.zram.exit", "passed", 36.0)]
    out = peer.kernel_outcomes(cases, "series", tmp_path)
    assert {k for k in out if k.startswith("zram.")} == {"zram.zram01", "zram.zram02", "zram.exit"}
    assert all(v[0] == "passed" for v in out.values())
    zswap = sorted(k.split(".")[-1] for k in out if k.startswith("cgroup.test_zswap."))
    assert zswap == sorted(["test_zswap_usage", "test_swapin_nozswap", "test_zswapin",
                            "test_zswap_writeback_enabled", "test_zswap_writeback_disabled",
                            "test_no_kmem_bypass", "test_no_invasive_cgroup_shrink",
                            "test_zswap_incompressible"])
