"""The verdicts on one boot: did it run its plan and power off by itself,
is its console free of kernel reports, how did each program exit."""
from __future__ import annotations

import re

from zsbed.machine.boot import STALL_GRACE, Boot
from zsbed.plan import dmesg
from zsbed.plan.parse import Case
from zsbed.verdict.outcome import Outcome
from zsbed.verdict.verdict import TIMEOUT_KILL

KSFT_SKIP = 4


def boot_case(b: Boot, findings: list[dmesg.Finding], machine: str = "UML") -> Case:
    """Did the boot run its plan and power off by itself?"""
    if b.stalled:
        return Case(f"boot.{b.name}", Outcome.FAILED, b.seconds,
                    f"killed after {b.seconds:.0f}s: the kernel reported a stall "
                    f"({b.stalled}) and no program finished in the next "
                    f"{STALL_GRACE:.0f}s")
    if b.timed_out:
        panic = next((f.line for f in findings if f.kind == "Oops"), "")
        why = (f"{TIMEOUT_KILL}{b.seconds:.0f}s timeout"
               + (f" ({panic})" if panic else " (hung)"))
        return Case(f"boot.{b.name}", Outcome.FAILED, b.seconds, why)
    if not b.finished:
        last = (b.console.read_text(errors="replace").strip().splitlines() or ["(no output)"])[-1]
        return Case(f"boot.{b.name}", Outcome.FAILED, b.seconds,
                    f"{machine} exited (status {b.exit_code}) before the plan finished; "
                    f"last line: {last}")
    return Case(f"boot.{b.name}", Outcome.PASSED, b.seconds)


def dmesg_case(b: Boot, findings: list[dmesg.Finding]) -> Case:
    """Fail on any kernel report that is not listed as benign."""
    bad = [f for f in findings if not f.benign]
    benign = [f for f in findings if f.benign]
    note = f" ({len(benign)} known-benign: {benign[0].benign})" if benign else ""
    if bad:
        text = "\n".join(f"{b.console.name}:{f.lineno}: [{f.kind}] {f.line}" for f in bad)
        return Case(f"dmesg.{b.name}", Outcome.FAILED, None,
                    f"{len(bad)} kernel report(s), first: [{bad[0].kind}] {bad[0].line}{note}", text)
    return Case(f"dmesg.{b.name}", Outcome.PASSED, None, note.strip())


def not_finished(name: str, text: str) -> Case:
    """A program of the plan that has no exit status: the boot died first."""
    return Case(f"{name}.exit", Outcome.ERROR, None,
                "did not run or did not finish (boot died first)", text[-4000:])


def exit_case(name: str, word: str, seconds: float, text: str) -> Case:
    """A program's exit status: 0 passes, KSFT_SKIP skips, anything else fails."""
    if word == "0":
        return Case(f"{name}.exit", Outcome.PASSED, seconds)
    if word == str(KSFT_SKIP):
        return Case(f"{name}.exit", Outcome.SKIPPED, seconds, "exit status 4 (KSFT_SKIP)")
    return Case(f"{name}.exit", Outcome.FAILED, seconds, f"exit status {word}", text[-4000:])


def whole_program_skip(name: str, word: str, text: str, parsed: list[Case]) -> list[Case]:
    """A program that exited with KSFT_SKIP and "1..0 # SKIP <reason>" skipped
    as a whole: its own error case (no tests) is a skip, with the reason."""
    if word != str(KSFT_SKIP):
        return parsed
    reason = re.search(r"(?m)^1\.\.0\s*#\s*SKIP\s*(.*)$", text)
    why = f"skipped: {reason.group(1)}" if reason else "exit status 4 (KSFT_SKIP)"
    return [Case(c.name, Outcome.SKIPPED, None, why, c.log)
            if c.name == name and c.outcome == Outcome.ERROR else c for c in parsed]


def no_kunit_ktap() -> Case:
    """KUnit is configured in, and the console has no KTAP."""
    return Case("kunit", Outcome.ERROR, None, "KUnit tests are configured but printed no KTAP")
