"""KTAP -> cases, through the kernel's own kunit_parser, on saved logs."""
from __future__ import annotations

import re
from pathlib import Path

from zsbed.plan.parse import Case, has_ktap, parse_ktap


REPO = Path(__file__).resolve().parent.parent


def _outcomes(cases: list[Case]) -> dict[str, str]:
    return {c.name: c.outcome for c in cases}


def test_selftest_ktap_maps_each_case(ktree: Path, data: Path) -> None:
    text = (data / "selftest-pass.ktap").read_text().splitlines()
    cases = parse_ktap(ktree, text, "selftests.zsmalloc.zram_swap")
    assert _outcomes(cases) == {
        "selftests.zsmalloc.zram_swap.zram0 set up as swap (64 MiB)": "passed",
        "selftests.zsmalloc.zram_swap.pageout stored 16777216 of 16777216 bytes in zram": "passed",
        "selftests.zsmalloc.zram_swap.zswap not enabled": "skipped",
    }


def test_selftest_failure_and_missing_cases(ktree: Path, data: Path) -> None:
    cases = parse_ktap(ktree, (data / "selftest-fail.ktap").read_text().splitlines(), "st")
    out = _outcomes(cases)
    assert out["st.read back 4096 pages, 17 mismatched"] == "failed"
    # The plan said 4; the 4th never came: the parser's error becomes an error case.
    assert any(o == "error" for o in out.values())


def test_kunit_nested_suites_from_console(ktree: Path, data: Path) -> None:
    text = (data / "kunit-nested.log").read_text()
    assert has_ktap(text)
    out = _outcomes(parse_ktap(ktree, text.splitlines(), "kunit"))
    assert out == {
        "kunit.zsmalloc.zsmalloc_alloc_free_all_classes": "passed",
        "kunit.zsmalloc.zsmalloc_deferred_flush": "failed",
        "kunit.zsmalloc.zsmalloc_obj_roundtrip": "skipped",
        "kunit.other.other_case": "passed",
    }


def test_kunit_crash_midway_is_an_error(ktree: Path, data: Path) -> None:
    text = (data / "kunit-crash.log").read_text().splitlines()
    cases = parse_ktap(ktree, text, "kunit")
    out = _outcomes(cases)
    assert out["kunit.zsmalloc.zsmalloc_alloc_free_all_classes"] == "passed"
    assert "error" in out.values()


def test_no_ktap() -> None:
    assert not has_ktap("Linux version 7.3.4\nno tests here\n")


def test_real_default_boot_log(ktree: Path, data: Path) -> None:
    """A whole console log of `make uml-test` (default variant, 7.3.4)."""
    text = (data / "boot-default.log").read_text()
    cases = parse_ktap(ktree, text.splitlines(), "kunit")
    out = _outcomes(cases)
    # the saved boot ran exactly the suite that patches/ defines: refresh it
    # (make test-data) when a case is added or renamed
    # (0009 adds the suite; a later patch may add a case that needs its
    # instrumentation, as 0010's flush_is_a_barrier needs a fault point)
    patches = "".join(p.read_text() for p in sorted((REPO / "patches").glob("00*.patch")))
    suite = re.findall(r"^\+\tKUNIT_CASE\((\w+)\),$", patches, re.M)
    assert len(suite) >= 9
    assert sorted(out) == sorted(f"kunit.zsmalloc.{c}" for c in suite)
    assert set(out.values()) == {"passed"}


def test_a_plan_promising_more_tests_than_lines_is_capped(ktree: Path) -> None:
    """kunit_parser adds a missing subtest per promised test: 1..99999999999
    would fill the host's memory (the fuzz tests found it)."""
    cases = parse_ktap(ktree, ["KTAP version 1", "1..99999999999", "ok 1 a"], "st")
    out = _outcomes(cases)
    assert out["st.a"] == "passed" and out["st.<plan>"] == "error"
    assert len(cases) < 10


def test_what_the_kernel_parser_cannot_take_is_an_error_case(ktree: Path) -> None:
    cases = parse_ktap(ktree, ["TAP version 13", "1..1", "ok " + "9" * 5000 + " x"], "st")
    assert [(c.name, c.outcome) for c in cases] == [("st.<parse>", "error")]
    assert "kunit_parser failed on this KTAP: ValueError" in cases[0].message
