"""The dmesg checker: any kernel report in a boot's log fails the boot.

A report is a line matching one of REPORTS. A report that is known to come
from UML itself rather than the code under test is listed, with the reason,
in BENIGN: the one place where such exceptions live.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# The kernel stopped making progress; the boot stage also kills a boot on it.
STALL = (r"rcu: INFO: rcu_\w+ (?:self-)?detected stall|watchdog: BUG: soft lockup|"
         r"INFO: task \S+ blocked for more than")

# (kind, pattern) — matched against each console line.
REPORTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("KASAN", re.compile(r"BUG: KASAN: |KASAN: ")),
    ("kmemleak", re.compile(r"kmemleak: \d+ new suspected memory leaks|unreferenced object 0x")),
    ("lockdep", re.compile(r"WARNING: (possible circular locking|possible recursive locking|"
                           r"inconsistent lock state|suspicious RCU usage|bad unlock balance)|"
                           r"BUG: (sleeping function called|scheduling while atomic|"
                           r"spinlock|rwlock|held lock freed)|"
                           # a lock used uninitialized: lockdep says so, then turns
                           # itself (and DEBUG_SPINLOCK's checks) off for the boot
                           r"INFO: trying to register non-static key|"
                           r"turning off the locking correctness validator")),
    ("SLUB", re.compile(r"^\s*(\[[^]]*\]\s*)?BUG [\w-]+ \(.*\): |Object already free|"
                        r"Poison overwritten|Redzone overwritten")),
    ("stall", re.compile(STALL)),
    # the x86-kcsan variant: a data race, or an ASSERT_EXCLUSIVE_*() broken
    ("KCSAN", re.compile(r"BUG: KCSAN: ")),
    ("BUG", re.compile(r"BUG: |kernel BUG at ")),
    ("WARNING", re.compile(r"WARNING: |------------\[ cut here \]------------")),
    # zs_destroy_pool() found objects still allocated: they leaked
    ("zsmalloc", re.compile(r"Class-\d+ fullness group \d+ is not empty")),
    ("Oops", re.compile(r"Oops|general protection fault|Kernel panic - not syncing|"
                        r"Segfault with no mm|Kernel mode fault")),
)


@dataclass(frozen=True)
class Benign:
    """A report that is not caused by the code under test.

    ``header`` matches the report's first line; ``context`` must match within
    the next ``window`` lines (the report's own file/function lines), so only
    that exact site is forgiven.
    """

    header: re.Pattern[str]
    context: re.Pattern[str]
    reason: str
    window: int = 8         # lines after the header searched for context
    before: int = 3         # lines before it, too


# The one place where known-benign reports are listed, with the reason.
BENIGN: tuple[Benign, ...] = (
    Benign(re.compile(r"WARNING: suspicious RCU usage"),
           re.compile(r"smp: Bringing up secondary CPUs(.|\n)*Callback enqueued on offline CPU"),
           "UML SMP bring-up: RCU callback queued on a not-yet-online vCPU "
           "(kernel/rcu/tree.c, task swapper/N); comes from UML itself, "
           "not from zsmalloc, zram or zswap"),
    # Both lines of the report: the cut-here marker and the WARNING itself.
    Benign(re.compile(r"------------\[ cut here \]------------|"
                      r"WARNING: \S*kernel/time/hrtimer\.c:\d+ at hrtimer_forward\+"),
           re.compile(r"WARNING: \S*kernel/time/hrtimer\.c:\d+ at hrtimer_forward\+"
                      r"(.|\n)*\bdl_task_timer\+"),
           "the scheduler's deadline server: dl_task_timer() forwards its own "
           "hrtimer while it is still queued (kernel/sched/deadline.c); seen once "
           "in the deep boots of make flaky, during a 129 s stall of the whole "
           "UML process, not in zsmalloc, zram or zswap",
           window=40),
    # x86-kcsan, with sampling raised (kcsan.skip_watch=50): seen on the
    # unmutated series in 3 of 3 reports of one boot of the plan (and
    # zs_obj_read_end, with skip_watch=10).
    Benign(re.compile(r"BUG: KCSAN: data-race in fix_fullness_group / "
                      r"(zs_obj_write|zs_obj_read_begin|zs_obj_read_end)\b"),
           re.compile(r"BUG: KCSAN: data-race in fix_fullness_group"),
           "upstream 7.3, not the series: struct zspage's bitfields share one word; "
           "fix_fullness_group() writes the fullness bits under class->lock while "
           "zs_obj_write()/zs_obj_read_begin()/zs_obj_read_end() read the huge bit "
           "(set once, at creation) under the zspage's own lock only"),
    # The same race when KCSAN watched the reader and only saw the byte
    # change ("race at unknown origin"): seen once in 10 boots of
    # kcsan-free-record-race on the unmutated series (value 0x8a -> 0x88).
    # Forgiven only while bit 0, the huge bit those functions read, is the
    # same before and after.
    Benign(re.compile(r"BUG: KCSAN: data-race in (zs_obj_write|zs_obj_read_begin|"
                      r"zs_obj_read_end)\+0x[0-9a-f]+/0x[0-9a-f]+\s*$"),
           re.compile(r"race at unknown origin, with read to 0x[0-9a-f]+ of 1 bytes "
                      r"(.|\n)*value changed: (0x[0-9a-f]*[02468ace] -> 0x[0-9a-f]*[02468ace]|"
                      r"0x[0-9a-f]*[13579bdf] -> 0x[0-9a-f]*[13579bdf])\n"),
           "upstream 7.3, not the series: the zspage bitfield race above, seen from "
           "the reader's side only; the byte changed in the fullness bits, not in "
           "the huge bit (bit 0) the reader uses",
           window=30),
)


@dataclass(frozen=True)
class Finding:
    """One kernel report found in a log."""

    lineno: int
    kind: str
    line: str
    benign: str = ""          # the reason, when the report is known-benign


def _benign_reason(lines: list[str], index: int) -> str:
    """The reason the report at ``lines[index]`` is benign, or ''."""
    for entry in BENIGN:
        if entry.header.search(lines[index]):
            start = max(0, index - entry.before)
            if entry.context.search("\n".join(lines[start:index + entry.window])):
                return entry.reason
    return ""


def check(text: str) -> list[Finding]:
    """Every kernel report in ``text``, with known-benign ones marked."""
    findings = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        for kind, pattern in REPORTS:
            if pattern.search(line):
                findings.append(Finding(index + 1, kind, line.strip(), _benign_reason(lines, index)))
                break
    return findings
