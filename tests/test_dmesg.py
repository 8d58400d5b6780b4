"""The dmesg checker on saved log fragments."""
from __future__ import annotations

from pathlib import Path

from zsbed.plan import dmesg


def test_reports_of_every_kind_are_found() -> None:
    log = "\n".join([
        "zram: Added device: zram0",
        "BUG: KASAN: use-after-free in zs_free+0x10/0x200",
        "=============================================================================",
        "BUG zs_handle (Not tainted): Object already free",
        "WARNING: CPU: 1 PID: 42 at mm/zsmalloc.c:1234 zs_free+0x99/0x100",
        "kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
        "WARNING: possible circular locking dependency detected",
        "Kernel panic - not syncing: Segfault with no mm",
        "Class-48 fullness group 9 is not empty",
    ])
    kinds = [f.kind for f in dmesg.check(log)]
    assert kinds == ["KASAN", "SLUB", "WARNING", "kmemleak", "lockdep", "Oops", "zsmalloc"]
    assert all(not f.benign for f in dmesg.check(log))


def test_clean_boot_has_no_findings() -> None:
    assert dmesg.check("Linux version 7.3.4\nzsbed-init: plan finished, powering off\n") == []


def test_uml_smp_rcu_warning_is_benign_only_at_the_uml_site() -> None:
    """As printed by the deep (lockdep) variant at SMP bring-up, 7.3.4."""
    uml = ("smp: Bringing up secondary CPUs ...\n\n=============================\n"
           "WARNING: suspicious RCU usage\n7.3.4 #2 Not tainted\n-----------------------------\n"
           "../../src/kernel/rcu/tree.c:3185 Callback enqueued on offline CPU!!\n")
    ours = ("zsbed-init: running swap_release\nWARNING: suspicious RCU usage\n"
            "7.3.4 #2 Not tainted\n-----\nmm/zsmalloc.c:100 suspicious rcu_dereference_check()\n")
    assert dmesg.check(uml)[0].benign
    assert not dmesg.check(ours)[0].benign


def test_real_default_boot_log_is_clean(data: Path) -> None:
    assert dmesg.check((data / "boot-default.log").read_text()) == []


def test_stalls_are_reports() -> None:
    log = "\n".join([
        "rcu: INFO: rcu_sched self-detected stall on CPU",
        "rcu: \t0-....: (2599 ticks this GP) idle=9714/1/0x4000000000000002",
        "INFO: task kworker/u4:1:35 blocked for more than 120 seconds.",
        "rcu: RCU calculated value of scheduler-enlistment delay is 10 jiffies.",
    ])
    assert [(f.lineno, f.kind) for f in dmesg.check(log)] == [(1, "stall"), (3, "stall")]


def test_uml_deadline_server_hrtimer_warning_is_benign_only_there() -> None:
    """As printed by a deep boot of make flaky, 7.3.4 (stack shortened)."""
    head = ("------------[ cut here ]------------\n"
            "WARNING: ../../work/src/debian/kernel/time/hrtimer.c:1098 at "
            "hrtimer_forward+0x11d/0x1b0, CPU#1: zsbed-init/1\n"
            "CPU: 1 UID: 0 PID: 1 Comm: zsbed-init Tainted: G N 7.3.4 #4 VOLUNTARY\n"
            "Call Trace:\n [<60040424>] ? __warn.cold+0x22/0x351\n")
    sched = head + " [<601dd4e3>] ? dl_task_timer+0xcb3/0x2270\n"
    ours = head + " [<601dd4e3>] ? zs_deferred_work_fn+0x13/0x70\n"
    found = dmesg.check(sched)
    assert [f.kind for f in found] == ["WARNING", "WARNING"] and all(f.benign for f in found)
    assert not any(f.benign for f in dmesg.check(ours))


def test_a_lock_used_uninitialized_is_a_lockdep_report() -> None:
    """deep, 7.3.4, with spin_lock_init() of the deferred queue's lock deleted
    (make mutation, mm/zsmalloc.c:2382:delete:0): lockdep prints an INFO, not a
    WARNING or BUG, and then turns itself off for the rest of the boot."""
    log = ("    # zs_test_alloc_free_classes: 119 size classes, 136 merged\n"
           "INFO: trying to register non-static key.\n"
           "The code is fine but needs lockdep annotation, or maybe\n"
           "you didn't initialize this object before use?\n"
           "turning off the locking correctness validator.\n"
           "CPU: 1 UID: 0 PID: 38 Comm: kunit_try_catch Tainted: G                 N  7.3.4 #48\n")
    found = dmesg.check(log)
    assert [f.kind for f in found] == ["lockdep", "lockdep"] and not any(f.benign for f in found)
