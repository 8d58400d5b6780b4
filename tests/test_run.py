"""From what a boot left behind (status file, KTAP, console) to cases."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from zsbed.plan import dmesg
from zsbed.machine.boot import Boot
from zsbed.plan.program import Program, write_plan
from zsbed.plan.run import program_cases
from zsbed.verdict.boot import boot_case, dmesg_case

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


def _fake_boot(tmp: Path, monkeypatch: pytest.MonkeyPatch, full_after: bool) -> list[Path]:
    """run_boot with UML replaced: it writes a console and no status (as when
    the disk fills under it); free space is faked, before and after."""
    from zsbed.core import disk
    from zsbed.plan import run

    booted: list[Path] = []

    def fake(kernel, init, plan, outdir, console, name, timeout, extra):  # type: ignore[no-untyped-def]
        booted.append(console)
        console.write_text("Linux version 7.3.4\n")
        return Boot(name=name, console=console, outdir=outdir, exit_code=1)
    monkeypatch.setattr(run, "boot", fake)
    monkeypatch.setattr(disk, "free_bytes", lambda p: 0 if booted and full_after else 10**9)
    bdir = tmp / "b"
    bdir.mkdir()
    (bdir / ".config").write_text("CONFIG_SMP=y\n")
    return booted


def test_disk_full_during_the_boot_is_zsbeds_failure_not_the_kernels(
        ktree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zsbed.plan import run
    from zsbed.kernel.build import Kernel
    from zsbed.core.errors import ZsbedError

    _fake_boot(tmp_path, monkeypatch, full_after=True)
    with pytest.raises(ZsbedError, match=r"results: the disk is full \(0 KiB free\) during the "
                       r"boot main: zsbed could not write what it produced \(a host-side "
                       r"failure, not the kernel's\); free some space and run again"):
        run.run_boot(ktree, Kernel(tmp_path / "b", "fast"), Path("/init"), PROGS,
                     tmp_path / "results", "main", 10, kunit=False)
    # with room, the same boot is the kernel's failure, as before
    (tmp_path / "again").mkdir()
    _fake_boot(tmp_path / "again", monkeypatch, full_after=False)
    cases = {c.name: c for c in run.run_boot(ktree, Kernel(tmp_path / "again" / "b", "fast"),
                                             Path("/init"), PROGS, tmp_path / "again" / "results",
                                             "main", 10, kunit=False)}
    assert cases["boot.main"].message.startswith("UML exited (status 1) before the plan finished")


def test_no_boot_on_a_full_disk(ktree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zsbed.core import disk
    from zsbed.plan import run
    from zsbed.kernel.build import Kernel
    from zsbed.core.errors import ZsbedError

    booted = _fake_boot(tmp_path, monkeypatch, full_after=False)
    monkeypatch.setattr(disk, "free_bytes", lambda p: 4096)
    with pytest.raises(ZsbedError, match=r"the disk is full \(4 KiB free\) before the boot main"):
        run.run_boot(ktree, Kernel(tmp_path / "b", "fast"), Path("/init"), PROGS,
                     tmp_path / "results", "main", 10, kunit=False)
    assert not booted
