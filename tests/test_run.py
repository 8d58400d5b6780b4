"""From what a boot left behind (status file, KTAP, console) to cases."""
from __future__ import annotations

import shutil
from pathlib import Path

from zsbed import dmesg
from zsbed.boot import Boot
from zsbed.run import Program, boot_case, dmesg_case, program_cases, write_plan

PROGS = [Program("selftests.zsmalloc.zram_swap", ("/x/zram_swap",)),
         Program("selftests.zsmalloc.second", ("/x/second", "-m", "4"), timeout=5)]


def _boot(tmp: Path, status: str, console: str = "") -> Boot:
    out = tmp / "ktap" / "main"
    out.mkdir(parents=True)
    (out / "status").write_text(status)
    log = tmp / "console.log"
    log.write_text(console)
    return Boot(name="main", console=log, outdir=out, seconds=0.5, exit_code=0)


def test_plan_format(tmp_path: Path) -> None:
    write_plan(tmp_path / "plan", PROGS)
    assert (tmp_path / "plan").read_text() == (
        "selftests.zsmalloc.zram_swap 60 /x/zram_swap\nselftests.zsmalloc.second 5 /x/second -m 4\n")


def test_exit_status_and_ktap(ktree: Path, tmp_path: Path, data: Path) -> None:
    b = _boot(tmp_path, "selftests.zsmalloc.zram_swap 0 1500\nselftests.zsmalloc.second 4 20\ndone\n")
    shutil.copy(data / "selftest-pass.ktap", b.outdir / "selftests.zsmalloc.zram_swap.ktap")
    cases = {c.name: c for c in program_cases(ktree, b, PROGS)}
    assert cases["selftests.zsmalloc.zram_swap.exit"].outcome == "passed"
    assert cases["selftests.zsmalloc.zram_swap.exit"].duration == 1.5
    assert cases["selftests.zsmalloc.second.exit"].outcome == "skipped"
    assert cases["selftests.zsmalloc.zram_swap.zswap not enabled"].outcome == "skipped"


def test_program_that_never_finished_is_an_error(ktree: Path, tmp_path: Path) -> None:
    b = _boot(tmp_path, "selftests.zsmalloc.zram_swap 1 10\n")
    cases = {c.name: c for c in program_cases(ktree, b, PROGS)}
    assert cases["selftests.zsmalloc.zram_swap.exit"].outcome == "failed"
    assert cases["selftests.zsmalloc.second.exit"].outcome == "error"
    assert not b.finished


def test_boot_case_timeout_names_the_panic(tmp_path: Path) -> None:
    console = "Linux version 7.3.4\nKernel panic - not syncing: Segfault with no mm\n"
    b = _boot(tmp_path, "", console)
    b.timed_out, b.seconds = True, 30.0
    case = boot_case(b, dmesg.check(console))
    assert case.outcome == "failed"
    assert case.message == "killed after the 30s timeout (Kernel panic - not syncing: Segfault with no mm)"


def test_boot_case_died_early(tmp_path: Path) -> None:
    b = _boot(tmp_path, "", "Linux version 7.3.4\nlast words\n")
    assert boot_case(b, []).message.endswith("last line: last words")


def test_dmesg_case_fails_on_report_and_keeps_text(tmp_path: Path) -> None:
    console = "ok\nBUG: KASAN: double-free in zs_free+0x1/0x2\n"
    b = _boot(tmp_path, "done\n", console)
    case = dmesg_case(b, dmesg.check(console))
    assert case.outcome == "failed"
    assert "console.log:2: [KASAN] BUG: KASAN: double-free" in case.log


def test_whole_program_skip_is_a_skip_not_an_error(ktree: Path, tmp_path: Path) -> None:
    b = _boot(tmp_path, "selftests.zsmalloc.zram_swap 4 20\nselftests.zsmalloc.second 0 5\ndone\n")
    (b.outdir / "selftests.zsmalloc.zram_swap.ktap").write_text(
        "TAP version 13\n1..0 # SKIP no kmemleak in this kernel\n")
    cases = {c.name: c for c in program_cases(ktree, b, PROGS)}
    assert cases["selftests.zsmalloc.zram_swap"].outcome == "skipped"
    assert cases["selftests.zsmalloc.zram_swap"].message == "skipped: no kmemleak in this kernel"
    assert cases["selftests.zsmalloc.zram_swap.exit"].outcome == "skipped"


def test_boot_case_names_the_stall(tmp_path: Path) -> None:
    b = _boot(tmp_path, "", "rcu: INFO: rcu_sched self-detected stall on CPU\n")
    b.timed_out, b.stalled, b.seconds = True, "rcu: INFO: rcu_sched self-detected stall on CPU", 95.0
    assert boot_case(b, []).message == (
        "killed after 95s: the kernel reported a stall (rcu: INFO: rcu_sched self-detected "
        "stall on CPU) and no program finished in the next 60s")
