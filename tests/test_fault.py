"""The fault scenario loader, the counters and the expectations."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed import fault
from zsbed.errors import ZsbedError

GOOD = '''purpose = "p"
variant = "fast"
[faults.fail_deferred_trylock]
probability = 30
times = 10
[settings]
"/sys/kernel/debug/zsmalloc/delay_us" = 50
[[workload]]
program = "swap_release"
args = ["-n", "2"]
[[expect]]
counter = "stats.fail_deferred_trylock"
min = 1
'''


def _load(tmp: Path, text: str) -> fault.Scenario:
    f = tmp / "s.toml"
    f.write_text(text)
    return fault.load(f)


def test_load_and_plan(tmp_path: Path) -> None:
    s = _load(tmp_path, GOOD)
    assert s.settings == [
        ("/sys/kernel/debug/zsmalloc/fail_deferred_trylock/probability", "30"),
        ("/sys/kernel/debug/zsmalloc/fail_deferred_trylock/times", "10"),
        ("/sys/kernel/debug/zsmalloc/delay_us", "50")]
    progs = {"fault_ctl": Path("/b/fault_ctl"), "swap_release": Path("/b/swap_release")}
    plan = fault.programs(s, progs)
    assert [p.name for p in plan] == ["fault.s.arm", "fault.s.1.swap_release", "fault.s.counters"]
    assert plan[-1].argv[1:] == ("dump", "/sys/kernel/debug/zsmalloc/fault_stats",
                                 "/sys/kernel/debug/zsmalloc/fail_deferred_trylock/times")


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('purpose = "p"\n', ""), r"s.toml: missing key 'purpose'"),
    (lambda t: "colour = 1\n" + t, r"s.toml: unknown key 'colour'"),
    (lambda t: t.replace("probability = 30", "probabilty = 30"),
     r"faults.fail_deferred_trylock: unknown attribute 'probabilty'"),
    (lambda t: t.replace("times = 10", 'times = "ten"'),
     r"faults.fail_deferred_trylock.times must be an integer"),
    (lambda t: t.replace("min = 1", "min = 1\nmax = 3"), r"expect #1: needs exactly one of min, max, eq"),
    (lambda t: t.split("[[expect]]")[0], r"missing key 'expect'"),
    (lambda t: t.replace('program = "swap_release"\n', ""), r"workload #1: missing key 'program'"),
    (lambda t: t.replace('"/sys/kernel/debug/zsmalloc/delay_us"', '"delay_us"'),
     r"settings: 'delay_us' must be an absolute path"),
    (lambda t: t.replace("[[workload]]", "[[workload"), r"s.toml: "),
])
def test_malformed_scenario_is_one_line_naming_file_key_reason(
        tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ZsbedError, match=message) as err:
        _load(tmp_path, edit(GOOD))
    assert "\n" not in str(err.value)


def test_counters_and_expectations(tmp_path: Path) -> None:
    dump = ("TAP version 13\n1..2\n"
            "# counter /sys/kernel/debug/zsmalloc/fault_stats:fail_deferred_trylock 120\n"
            "# counter /sys/kernel/debug/zsmalloc/fault_stats:async_free_zspage 0\n"
            "# counter /sys/kernel/debug/zsmalloc/fail_deferred_trylock/times 0\n")
    work = ("# deferred zram0 pending 0 capacity 32768 queued 900 drained 900 "
            "fallback_contended 100 fallback_full 0 drain_runs 3\n"
            "# deferred zswap1 pending 0 capacity 32768 queued 10 drained 10 "
            "fallback_contended 20 fallback_full 0 drain_runs 1\n")
    kunit = "    # zs_test_obj_encoding: ZS_OBJ_CLASS_BITS=9: lockless class lookup\n"
    values = fault.counters([dump, work, kunit])
    assert values["zsmalloc.class_bits"] == 9
    assert values["stats.fail_deferred_trylock"] == 120
    assert values["fail_deferred_trylock.times"] == 0
    assert values["deferred.fallback_contended"] == 120
    s = _load(tmp_path, GOOD.replace("min = 1", "min = 1\n[[expect]]\ncounter = "
                                     '"stats.async_free_zspage"\nmin = 1\n[[expect]]\n'
                                     'counter = "stats.nope"\neq = 0'))
    out = {c.name: (c.outcome, c.message) for c in fault.expectation_cases(s, values)}
    assert out["fault.s.expect.stats.fail_deferred_trylock.min"][0] == "passed"
    assert out["fault.s.expect.stats.async_free_zspage.min"] == (
        "failed", "stats.async_free_zspage = 0, want min 1")
    assert "never reported" in out["fault.s.expect.stats.nope.eq"][1]


def test_real_scenarios_load() -> None:
    assert len(fault.scenarios()) >= 8
    with pytest.raises(ZsbedError, match=r"SCENARIO=nope: no fault/nope.toml"):
        fault.scenarios("nope")
