"""Stage 6, run: boot UML on a test plan and turn what it left into cases.

A plan is a list of programs the guest init runs in order, each with its own
timeout. One boot yields:
- ``boot.<name>``: the boot powered off by itself after running the plan;
- ``dmesg.<name>``: no kernel report (BUG, KASAN, WARNING, ...) in its log;
- the KUnit cases printed at boot, and each program's KTAP cases, parsed
  with the kernel's own parser;
- ``<program>.exit``: the program's exit status (KSFT_SKIP counts as skip).
The verdicts on the boot, its console and the exit statuses are
zsbed.verdict.boot's.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from zsbed.core import disk, paths
from zsbed.kernel import configure
from zsbed.plan import dmesg
from zsbed.verdict import boot as boot_verdict
from zsbed.verdict import verdict
from zsbed.verdict.outcome import BAD
from zsbed.machine.boot import Boot, boot
from zsbed.kernel.build import Kernel
from zsbed.plan.parse import Case, has_ktap, parse_ktap
from zsbed.plan.program import Program, write_plan
from zsbed.core.progress import say


def program_cases(tree: Path, b: Boot, programs: list[Program]) -> list[Case]:
    """KTAP cases and the exit status of every program in the plan."""
    status = {}
    for line in b.status_lines:
        words = line.split()
        if len(words) == 3 and re.fullmatch(r"[0-9]+", words[2]):
            status[words[0]] = (words[1], int(words[2]) / 1000.0)
    cases: list[Case] = []
    for prog in programs:
        ktap = b.outdir / f"{prog.name}.ktap"
        text = ktap.read_text(errors="replace") if ktap.is_file() else ""
        parsed = parse_ktap(tree, text.splitlines(), prog.name) if has_ktap(text) else []
        if prog.name not in status:
            cases += [boot_verdict.not_finished(prog.name, text), *parsed]
            continue
        word, seconds = status[prog.name]
        cases += [boot_verdict.exit_case(prog.name, word, seconds, text),
                  *boot_verdict.whole_program_skip(prog.name, word, text, parsed)]
    return cases


def kunit_cases(tree: Path, kernel: Kernel, console: str, ktap_out: Path) -> list[Case]:
    """KUnit results printed on the console at boot."""
    if not has_ktap(console):
        if any(line.endswith("_KUNIT_TEST=y") for line in kernel.config.read_text().splitlines()):
            return [boot_verdict.no_kunit_ktap()]
        return []
    ktap_out.write_text(console)
    return parse_ktap(tree, console.splitlines(), "kunit")


def decode_panic(tree: Path, kernel: Kernel, console: Path, out: Path) -> None:
    """Best effort: resolve a crash's stack with scripts/decode_stacktrace.sh."""
    vmlinux = kernel.bdir / "vmlinux"
    script = tree / "scripts" / "decode_stacktrace.sh"
    if not (vmlinux.is_file() and script.is_file()):
        return
    try:
        with console.open("rb") as inp, out.open("wb") as outp:
            subprocess.run(["bash", str(script), str(vmlinux), str(tree)], stdin=inp, stdout=outp,
                           stderr=subprocess.DEVNULL, timeout=60)
        say(f"[run] decoded stack trace: {out}")
    except subprocess.TimeoutExpired:
        pass


def run_boot(tree: Path, kernel: Kernel, init: Path, programs: list[Program], results: Path,
             name: str, timeout: float, extra: list[str] | None = None,
             kunit: bool = True, expected_skips: bool = True) -> list[Case]:
    """Boot once with ``programs`` as the plan; return every case it yields.

    ``kunit``: whether the KUnit suites run at this boot (scenario boots
    turn them off). Skips are checked against the variant's expected skips,
    unless ``expected_skips`` is off (make peer compares its kernels instead).
    """
    outdir = results / "ktap" / name
    dmesg_dir = results / "dmesg"
    # The boot writes its console, KTAP and status here (UML's own files
    # under build/uml): with too little room it fails for want of space,
    # which is zsbed's failure, not the kernel's.
    host = (results, paths.BUILD / "uml")
    disk.check_full("", *host, during=f" before the boot {name}")
    with disk.writing(results):
        dmesg_dir.mkdir(parents=True, exist_ok=True)
        outdir.mkdir(parents=True, exist_ok=True)
        plan = outdir / "plan"
        write_plan(plan, programs)
    machine = "QEMU" if kernel.target.name == "qemu" else "UML"
    say(f"[boot] {name}: {kernel.variant} {machine}, {len(programs)} programs, "
        f"timeout {timeout:.0f}s")
    log = dmesg_dir / f"{name}.log"
    with disk.writing(log):
        b = boot(kernel, init, plan, outdir, log, name, timeout, extra)
    disk.check_full("", *host, below=disk.FILLED,
                    during=f" during the boot {name}: zsbed could not write what it "
                           f"produced (a host-side failure, not the kernel's)")
    text = log.read_text(errors="replace")
    findings = dmesg.check(text)
    cases = [boot_verdict.boot_case(b, findings, machine), boot_verdict.dmesg_case(b, findings)]
    if kunit:
        cases += kunit_cases(tree, kernel, text, outdir / "kunit.ktap")
    cases += program_cases(tree, b, programs)
    if expected_skips:
        cases = verdict.apply_skips(cases, kernel.variant,
                                    verdict.SkipList.load(variants=configure.variants()))
    if any(f.kind in ("Oops", "BUG", "KASAN") and not f.benign for f in findings):
        decode_panic(tree, kernel, log, dmesg_dir / f"{name}.decoded.log")
    bad = sum(c.outcome in BAD for c in cases)
    say(f"[boot] {name}: {b.seconds:.2f}s, {len(cases)} cases, {bad} failed")
    return cases
