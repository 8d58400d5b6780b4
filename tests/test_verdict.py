"""The one module that decides pass or fail: skips, mutants, phases, flakiness."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from zsbed.kernel import configure
from zsbed.verdict import verdict
from zsbed.core.errors import ZsbedError
from zsbed.plan.parse import Case

SKIPS = ('[[skip]]\ncase = "selftests.zsmalloc.leak_scan"\nvariants = ["fast"]\n'
         'reason = "no kmemleak"\n'
         '[[skip]]\ncase = "*.handles_returned"\nvariants = ["deep"]\nreason = "no slub_debug"\n')


def _skips(tmp: Path, text: str = SKIPS) -> verdict.SkipList:
    (tmp / "skips.toml").write_text(text)
    return verdict.SkipList.load(tmp / "skips.toml", variants=["fast", "deep"])


def test_unexpected_skip_fails_and_expected_skip_that_ran_fails(tmp_path: Path) -> None:
    skips = _skips(tmp_path)
    cases = [Case("selftests.zsmalloc.leak_scan", "skipped", None, "no kmemleak in this kernel"),
             Case("selftests.zsmalloc.x.handles_returned", "skipped", None, "not SLUB debug"),
             Case("selftests.zsmalloc.zram_reset_pending.reset_with_pending", "skipped", None,
                  "nothing was pending at reset")]
    out = {c.name: c for c in verdict.apply_skips(cases, "fast", skips)}
    assert out["selftests.zsmalloc.leak_scan"].outcome == "skipped"
    assert out["selftests.zsmalloc.leak_scan"].message == "expected: no kmemleak"
    # expected in deep only: in fast it is an unexpected skip
    assert out["selftests.zsmalloc.x.handles_returned"].outcome == "failed"
    assert "unexpected skip in fast" in out["selftests.zsmalloc.x.handles_returned"].message
    assert out["selftests.zsmalloc.zram_reset_pending.reset_with_pending"].outcome == "failed"
    ran = verdict.apply_skips([Case("fault.s.1.swap_release.handles_returned", "passed", None)],
                              "deep", skips)
    assert ran[0].outcome == "failed" and "expected to skip in deep" in ran[0].message


@pytest.mark.parametrize("text, message", [
    ('[[skip]]\ncase = "x"\nvariants = ["fast"]\n', r"#1: needs exactly the keys"),
    ('[[skip]]\ncase = "x"\nvariants = ["nope"]\nreason = "r"\n', r"\(x\): no variant 'nope'"),
    ('[[skip]]\ncase = "x"\nvariants = ["fast"]\nreason = " "\n', r"'reason' must say why"),
    ('skip = 1\n', r"expected only \[\[skip\]\] entries"),
])
def test_bad_skip_list(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ZsbedError, match=message):
        _skips(tmp_path, text)


def test_real_skip_list_names_real_cases(data: Path) -> None:
    skips = verdict.SkipList.load(variants=configure.variants())
    ids = json.loads((data / "case-ids.json").read_text())
    every = [n for names in ids["plan"].values() for n in names]
    every += [n for names in ids["scenarios"].values() for n in names]
    for s in skips.skips:
        assert any(verdict.fnmatch.fnmatchcase(n, s.case) for n in every), s.case


def test_caught_by_ids_are_exact_with_whole_part_wildcards() -> None:
    assert verdict.matches("dmesg.main", "dmesg.main")
    assert not verdict.matches("dmesg.", "dmesg.main")
    assert verdict.matches("selftests.zsmalloc.*.memory_returned",
                           "selftests.zsmalloc.swap_release_n1.memory_returned")
    assert not verdict.matches("selftests.zsmalloc.*.memory_returned",
                               "fault.x.1.swap_release.memory_returned")


def test_repeated_kills_must_be_all() -> None:
    kill, miss = verdict.MutantRun(True, ["a"]), verdict.MutantRun(False)
    assert verdict.repeated([kill] * 10) == "killed"
    assert verdict.repeated([kill] * 9 + [miss]) == "flaky"
    assert verdict.repeated([miss] * 3) == "survived"
    assert verdict.repeated([]) == "survived"


def test_forced_sites_count_only_their_scenarios_workloads() -> None:
    forced = ["trylock-zspage-fail"]
    assert verdict.phase_counts([], "main", "kunit")
    assert not verdict.phase_counts(forced, "main", "kunit")
    assert not verdict.phase_counts(forced, "main", "selftests.zsmalloc.swap_release_n1")
    assert verdict.phase_counts(forced, "fault.trylock-zspage-fail",
                                "fault.trylock-zspage-fail.1.swap_release")
    assert not verdict.phase_counts(forced, "fault.trylock-zspage-fail", "boot")
    assert not verdict.phase_counts(forced, "fault.trylock-zspage-fail",
                                    "fault.trylock-zspage-fail.arm")
    assert not verdict.phase_counts(forced, "fault.other", "fault.other.1.swap_release")


def test_flaky_rows_count_failures_per_case() -> None:
    runs = [[Case("a", "passed", None), Case("b", "failed", None, "late")],
            [Case("a", "passed", None), Case("b", "passed", None)],
            [Case("a", "error", None, "crash"), Case("b", "skipped", None)]]
    rows = {r["case"]: r for r in verdict.flaky_rows(runs)}
    assert (rows["a"]["runs"], rows["a"]["failed"], rows["a"]["first_failure"]) == (3, 1, "crash")
    assert (rows["b"]["failed"], rows["b"]["skipped"]) == (1, 1)
