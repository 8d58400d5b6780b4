"""Stage 5, boot: run one UML to completion, a timeout, or a crash.

Every boot gets a unique umid and runs in its own session (process group).
Whatever happens (normal power-off, timeout, panic, Ctrl-C, SIGTERM), the
whole process group is killed and any leftover process carrying the boot's
umid is swept, so no UML survives zsbed. The console log is always kept.
"""
from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from zsbed.core import paths
from zsbed.machine import qemu, umlmem
from zsbed.plan import dmesg
from zsbed.kernel.build import Kernel
from zsbed.machine.procs import sweep

MEM = "512M"
MEM_BYTES = 512 << 20
STALL = re.compile(dmesg.STALL.encode())   # the console is read as bytes
STALL_GRACE = 60.0       # seconds without a program finishing after a stall report
POLL = 0.5


@dataclass
class Boot:
    """What one UML boot did."""

    name: str
    console: Path
    outdir: Path
    seconds: float = 0.0
    timed_out: bool = False
    stalled: str = ""       # the stall report the boot was killed after
    exit_code: int | None = None
    cmdline: list[str] = field(default_factory=list)

    @property
    def status_lines(self) -> list[str]:
        status = self.outdir / "status"
        return status.read_text(errors="replace").splitlines() if status.is_file() else []

    @property
    def finished(self) -> bool:
        """init wrote "done": the plan ran to the end."""
        return "done" in self.status_lines


def boot_args(kernel: Kernel, umid: str, init: Path, extra: list[str]) -> list[str]:
    """The UML command line. SMP kernels need seccomp mode (ptrace mode refuses SMP)."""
    args = [str(kernel.linux), f"mem={MEM}", f"umid={umid}",
            f"uml_dir={paths.BUILD / 'uml'}", "root=/dev/root", "rootfstype=hostfs",
            "rootflags=/", "ro", f"init={init}", "con=null", "con0=null,fd:1"]
    if kernel.has("SMP"):
        args += ["ncpus=2", "seccomp=on"]
    return args + extra


def command(kernel: Kernel, umid: str, init: Path, extra: list[str], plan: Path,
            outdir: Path) -> tuple[list[str], str]:
    """The command that boots ``kernel`` on ``plan``, and the word of it
    that names this boot (what ``sweep`` looks for)."""
    tail = ["--", str(plan), str(outdir)]
    if kernel.target.name == "qemu":
        accel = qemu.accel(kernel.linux)
        return (qemu.boot_args(kernel.linux, accel, umid, init, outdir, extra + tail),
                f"guest={umid}")
    return boot_args(kernel, umid, init, extra) + tail, f"umid={umid}"


def mem_bytes(cmdline: list[str]) -> int:
    """The memory a UML command line asks for: its last ``mem=`` (K, M, G)."""
    need = MEM_BYTES
    for word in cmdline:
        m = re.fullmatch(r"mem=(\d+)([KMG]?)", word)
        if m:
            need = int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2)]
    return need


def uml_env(kernel: Kernel, cmdline: list[str]) -> dict[str, str] | None:
    """A UML boot's environment: TMPDIR names where its memory can live."""
    return umlmem.env(mem_bytes(cmdline)) if kernel.target.name != "qemu" else None


def _no_core() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _kill(proc: subprocess.Popen[bytes], tag: str) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 5
    while sweep(tag) and time.monotonic() < deadline:
        time.sleep(0.05)


def _stall_line(console: Path, offset: int) -> tuple[str, int]:
    """The first stall report in the console from ``offset`` on; the new offset."""
    with console.open("rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1          # only whole lines; the rest next time
    m = STALL.search(data, 0, end)
    if not m:
        return "", offset + end
    start = data.rfind(b"\n", 0, m.start()) + 1
    line = data[start:data.find(b"\n", m.start())]
    return line.decode(errors="replace").strip(), offset + end


def wait(proc: subprocess.Popen[bytes], result: Boot, timeout: float) -> None:
    """Wait for UML to exit, to time out, or to stall with no progress."""
    deadline = time.monotonic() + timeout
    offset = 0
    stall: tuple[float, str, int] | None = None   # when, report, programs done then
    while True:
        try:
            result.exit_code = proc.wait(timeout=POLL)
            return
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if now >= deadline:
            result.timed_out = True
            return
        if stall is None:
            line, offset = _stall_line(result.console, offset)
            if line:
                stall = (now, line, len(result.status_lines))
        elif len(result.status_lines) > stall[2]:
            stall = None                  # a program finished since: it recovered
        elif now - stall[0] >= STALL_GRACE:
            result.timed_out = True
            result.stalled = stall[1]
            return


def boot(kernel: Kernel, init: Path, plan: Path, outdir: Path, console: Path, name: str,
         timeout: float, extra: list[str] | None = None) -> Boot:
    """Boot once, running ``plan`` with results in ``outdir``; log to ``console``."""
    outdir.mkdir(parents=True, exist_ok=True)
    (paths.BUILD / "uml").mkdir(parents=True, exist_ok=True)
    umid = f"zsbed-{os.getpid()}-{name}-{time.monotonic_ns() % 10**9}"
    result = Boot(name=name, console=console, outdir=outdir)
    result.cmdline, tag = command(kernel, umid, init, extra or [], plan, outdir)
    start = time.monotonic()
    with result.console.open("wb") as log:
        proc = subprocess.Popen(result.cmdline, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_no_core, env=uml_env(kernel, result.cmdline))
        try:
            wait(proc, result, timeout)
        finally:
            _kill(proc, tag)
    result.seconds = time.monotonic() - start
    return result
