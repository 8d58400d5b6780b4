"""Stage 5, boot: run one UML to completion, a timeout, or a crash.

Every boot gets a unique umid and runs in its own session (process group).
Whatever happens (normal power-off, timeout, panic, Ctrl-C, SIGTERM), the
whole process group is killed and any leftover process carrying the boot's
umid is swept, so no UML survives zsbed. The console log is always kept.
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from zsbed import paths
from zsbed.build import Kernel

MEM = "512M"


@dataclass
class Boot:
    """What one UML boot did."""

    name: str
    console: Path
    outdir: Path
    seconds: float = 0.0
    timed_out: bool = False
    exit_code: int | None = None
    cmdline: list[str] = field(default_factory=list)

    @property
    def status_lines(self) -> list[str]:
        status = self.outdir / "status"
        return status.read_text().splitlines() if status.is_file() else []

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


def _no_core() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def sweep(umid: str) -> int:
    """SIGKILL any process whose command line carries ``umid=<umid>``."""
    needle = f"umid={umid}".encode()
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle in argv:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
    return killed


def _kill(proc: subprocess.Popen[bytes], umid: str) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 5
    while sweep(umid) and time.monotonic() < deadline:
        time.sleep(0.05)


def boot(kernel: Kernel, init: Path, plan: Path, outdir: Path, console: Path, name: str,
         timeout: float, extra: list[str] | None = None) -> Boot:
    """Boot once, running ``plan`` with results in ``outdir``; log to ``console``."""
    outdir.mkdir(parents=True, exist_ok=True)
    (paths.BUILD / "uml").mkdir(parents=True, exist_ok=True)
    umid = f"zsbed-{os.getpid()}-{name}-{time.monotonic_ns() % 10**9}"
    result = Boot(name=name, console=console, outdir=outdir)
    result.cmdline = boot_args(kernel, umid, init, extra or []) + ["--", str(plan), str(outdir)]
    start = time.monotonic()
    with result.console.open("wb") as log:
        proc = subprocess.Popen(result.cmdline, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_no_core)
        try:
            result.exit_code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            result.timed_out = True
        finally:
            _kill(proc, umid)
    result.seconds = time.monotonic() - start
    return result
