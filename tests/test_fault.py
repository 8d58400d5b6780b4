"""The fault scenario loader, the counters and the expectations."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed.plan import fault
from zsbed.verdict import verdict
from zsbed.core.errors import ZsbedError

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
                                 "/sys/kernel/debug/zsmalloc/class_bits",
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
    (lambda t: t.replace("times = 10", "times = true"),
     r"faults.fail_deferred_trylock.times must be an integer"),
    (lambda t: t.replace("min = 1", "min = true"), r"expect #1.min must be an integer"),
    (lambda t: t.replace('"stats.fail_deferred_trylock"', '"deferred.fallback_contended"'),
     r"expect #1 \(deferred.fallback_contended\): a queue counter is per pool"),
    (lambda t: t.replace("min = 1", 'min = 1\npool = "zram0"'),
     r"expect #1 \(stats.fail_deferred_trylock\): 'pool' is only for deferred"),
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
    work = ("# pool zswap-old zswap1\n"
            "# deferred zram0 pending 0 capacity 32768 queued 900 drained 900 "
            "fallback_contended 100 fallback_full 0 drain_runs 3 max_delay_ms 20 "
            "pending_max 700 wait_max_ms 30\n"
            "# deferred zswap1 pending 7 capacity 32768 queued 10 drained 3 "
            "fallback_contended 20 fallback_full 0 drain_runs 1\n"
            "# deferred zswap1 pending 0 capacity 32768 queued 10 drained 10 "
            "fallback_contended 20 fallback_full 0 drain_runs 2\n")
    dump += "# counter /sys/kernel/debug/zsmalloc/class_bits 9\n"
    values = fault.counters([dump, work])
    assert values["zsmalloc.class_bits"] == 9
    assert values["stats.fail_deferred_trylock"] == 120
    assert values["fail_deferred_trylock.times"] == 0
    # per pool, never summed over pools; the most any line showed
    assert values["deferred.zram0.fallback_contended"] == 100
    assert values["deferred.zswap1.fallback_contended"] == 20
    assert values["deferred.zswap1.pending"] == 7
    assert values["deferred.zswap-old.drain_runs"] == 2
    assert values["deferred.zram0.wait_max_ms"] == 30
    assert "deferred.fallback_contended" not in values
    s = _load(tmp_path, GOOD.replace("min = 1", "min = 1\n[[expect]]\ncounter = "
                                     '"stats.async_free_zspage"\nmin = 1\n[[expect]]\n'
                                     'counter = "stats.nope"\neq = 0\n[[expect]]\n'
                                     'counter = "deferred.pending"\npool = "zswap-old"\n'
                                     'min = 1\n[[expect]]\ncounter = "deferred.pending"\n'
                                     'pool = "zswap"\nmin = 1\n'))
    out = {c.name: (c.outcome, c.message)
           for c in verdict.expectation_cases(s.name, s.expects, values)}
    assert out["fault.s.expect.stats.fail_deferred_trylock.min"][0] == "passed"
    assert out["fault.s.expect.stats.async_free_zspage.min"] == (
        "failed", "stats.async_free_zspage = 0, want min 1")
    assert "never reported" in out["fault.s.expect.stats.nope.eq"][1]
    assert out["fault.s.expect.deferred.zswap-old.pending.min"][0] == "passed"
    # a pool nobody named: the counter of another pool does not stand in for it
    assert out["fault.s.expect.deferred.zswap.pending.min"] == (
        "failed", "counter deferred.zswap.pending: no counters for pool 'zswap' "
                  "(pools seen: zram0, zswap-old, zswap1)")


def test_real_scenarios_load() -> None:
    assert len(fault.scenarios()) >= 8
    with pytest.raises(ZsbedError, match=r"SCENARIO=nope: no fault/nope.toml"):
        fault.scenarios("nope")
