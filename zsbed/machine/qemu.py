"""The x86_64 guest: its machine as data, and the accelerator it runs under.

The guest is booted by Debian's ``qemu-system-x86_64`` the way kunit.py
boots its x86_64 target (``pc`` machine, qboot firmware, 8250 console on
stdio, ``-no-reboot``), with the host's ``/`` as a read-only 9p root and
the boot's results directory as a second, writable 9p share: the same
guest init runs the same plan there as under UML.

The accelerator is KVM only when a probe boot shows that KVM really runs
this kernel: ``/dev/kvm`` may open and create a VM and still fail every
guest (seen on hosts whose /dev/kvm is PVM's). Otherwise TCG, with one
thread per vCPU. ``ACCEL=kvm|tcg`` forces one. Either way one line says
which ran and why.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from zsbed.core import disk, paths
from zsbed.machine.procs import sweep
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say

BINARY = "qemu-system-x86_64"
PROBE_TIMEOUT = 20.0     # seconds: a working KVM reaches the root mount in about 1
PROBE_STATE = paths.BUILD / "qemu-accel.json"
# the root is mounted by tag; a tag that parsed as a hex device number
# would be taken for a block device
ROOT_TAG = "zsbedroot"
OUT_TAG = "zsbedout"


@dataclass(frozen=True)
class Machine:
    """The guest's hardware (kunit.py's x86_64 target, plus 9p and SMP)."""

    memory: str = "1G"
    cpus: int = 2
    machine: tuple[str, ...] = ("-M", "pc", "-bios", "qboot.rom")
    console: str = "ttyS0"


MACHINE = Machine()


@dataclass(frozen=True)
class Accel:
    """The accelerator a guest runs under, and why."""

    name: str                  # kvm | tcg
    args: tuple[str, ...]
    why: str
    timeout_scale: float       # on every program's timeout


KVM_ARGS = ("-accel", "kvm", "-cpu", "host")
TCG_ARGS = ("-accel", "tcg,thread=multi", "-cpu", "max")
# measured here: the x86-fast plan runs in 15 s under TCG (UML fast: 23 s at 4x
# the size); 3x leaves room for a loaded host and for x86-kcsan
TCG_SCALE = 3.0
KVM_SCALE = 2.0


def tcg(why: str) -> Accel:
    return Accel("tcg", TCG_ARGS, why, TCG_SCALE)


def kvm(why: str) -> Accel:
    return Accel("kvm", KVM_ARGS, why, KVM_SCALE)


def _escape(path: Path | str) -> str:
    """A path as one value of a QEMU option list (commas doubled)."""
    return str(path).replace(",", ",,")


def kvm_unusable() -> str:
    """Why KVM cannot even be tried here, or ''."""
    dev = Path("/dev/kvm")
    if not dev.exists():
        return "no /dev/kvm"
    if not os.access(dev, os.R_OK | os.W_OK):
        return "/dev/kvm is not readable and writable by this user"
    return ""


def host_note() -> str:
    """What the host's KVM module is, when that explains a failure."""
    mods = Path("/sys/module")
    if (mods / "kvm_pvm").exists() and not any((mods / m).exists()
                                               for m in ("kvm_intel", "kvm_amd")):
        return "; /dev/kvm here is PVM's (kvm_pvm), which runs PVM guest kernels only"
    return ""


def probe_args(image: Path, tag: str) -> list[str]:
    """A boot that ends at the root mount (KUnit off: it would run first):
    enough to show that the CPUs, the memory and the interrupts work
    under the accelerator."""
    return [BINARY, *MACHINE.machine, "-m", "256M", "-smp", str(MACHINE.cpus), *KVM_ARGS,
            "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
            "-name", f"guest={tag}", "-kernel", str(image),
            "-append", f"console={MACHINE.console} panic=-1 kunit.enable=0 "
                       f"root=/dev/zsbed-none"]


REACHED = re.compile(r"VFS: Unable to mount root fs|Kernel panic - not syncing: VFS")
BROKEN = re.compile(r"KVM internal error.*|.*emulation failure.*|.*failed to initialize kvm.*|"
                    r".*kvm run failed.*", re.IGNORECASE)


@dataclass(frozen=True)
class Probe:
    """What a probe boot showed: the accelerator, and whether the answer
    holds for this image until the host reboots (a timeout may be load)."""

    accel: Accel
    lasting: bool


def probe(image: Path) -> Probe:
    """Boot ``image`` under KVM up to the root mount; KVM if it got there."""
    why = kvm_unusable()
    if why:
        return Probe(tcg(f"{why}{host_note()}"), False)
    tag = f"zsbed-probe-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    with tempfile.TemporaryFile() as out:
        start = time.monotonic()
        proc = subprocess.Popen(probe_args(image, tag), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        text = ""
        try:
            while time.monotonic() - start < PROBE_TIMEOUT:
                time.sleep(0.2)
                out.seek(0)
                text = out.read().decode(errors="replace")
                if proc.poll() is not None or REACHED.search(text) or BROKEN.search(text):
                    break
        finally:
            # a KVM that failed may stop the guest without exiting: always kill
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()
            sweep(f"guest={tag}")
        seconds = time.monotonic() - start
    if REACHED.search(text):
        return Probe(kvm(f"a probe boot reached the root mount under KVM in {seconds:.1f}s"), True)
    broken = BROKEN.search(text)
    if broken:
        return Probe(tcg(f"a probe boot under KVM failed: {broken.group(0).strip()[:120]}"
                         f"{host_note()}"), True)
    if proc.returncode is not None and proc.returncode != -9:
        last = (text.strip().splitlines() or ["no output"])[-1][:120]
        return Probe(tcg(f"a probe boot under KVM exited with status {proc.returncode} "
                         f"({last}){host_note()}"), True)
    # a timeout may be a loaded host, to be asked again next run; not on a
    # host whose KVM cannot run this kernel at all
    return Probe(tcg(f"a probe boot under KVM did not reach the root mount in "
                     f"{PROBE_TIMEOUT:.0f}s{host_note()}"), bool(host_note()))


_chosen: dict[str, Accel] = {}


def accel(image: Path, forced: str | None = None) -> Accel:
    """The accelerator for ``image``: probed once per kernel image and host
    boot (a timeout, or a /dev/kvm that cannot be opened, is asked again
    next run), and said in one line once per run."""
    forced = forced or os.environ.get("ZSBED_ACCEL") or None
    if forced:
        if forced not in ("kvm", "tcg"):
            raise ZsbedError(f"ACCEL={forced}: must be kvm or tcg")
        chosen = (kvm if forced == "kvm" else tcg)(f"ACCEL={forced}, not probed")
        if forced not in _chosen:
            say(f"[qemu] accelerator: {chosen.name.upper()} ({chosen.why})")
            _chosen[forced] = chosen
        return chosen
    if shutil.which(BINARY) is None:
        raise ZsbedError(f"{BINARY} not found (Debian package qemu-system-x86)")
    stat = image.stat()
    key = f"{stat.st_mtime_ns}:{stat.st_size}:{_boot_id()}"
    if str(image) in _chosen:
        return _chosen[str(image)]
    kept = disk.read_state(PROBE_STATE, "qemu", ("images",)) or {"images": {}}
    entry = kept["images"].get(str(image))
    host = kept.get("host") or {}
    if host.get("boot_id") == _boot_id() and host_note():
        # a KVM that runs no stock kernel (PVM): no image will do until reboot
        chosen = tcg(f"{host['why']}; probed earlier")
    elif entry and entry.get("key") == key and not (entry["name"] == "kvm" and kvm_unusable()):
        chosen = (kvm if entry["name"] == "kvm" else tcg)(f"{entry['why']}; probed earlier")
    else:
        found = probe(image)
        chosen = found.accel
        if found.lasting:
            kept["images"][str(image)] = {"key": key, "name": chosen.name, "why": chosen.why}
            if chosen.name == "tcg" and host_note():
                kept["host"] = {"boot_id": _boot_id(), "why": chosen.why}
            disk.write_json(PROBE_STATE, kept)
    say(f"[qemu] accelerator: {chosen.name.upper()} ({chosen.why})")
    _chosen[str(image)] = chosen
    return chosen


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "?"


def boot_args(image: Path, accel_: Accel, tag: str, init: Path, outdir: Path,
              extra: list[str]) -> list[str]:
    """The QEMU command line of one boot; ``tag`` names it for the sweep.

    A ``mem=<size>`` word in ``extra`` (UML's memory size, as make bench
    gives it) sizes the guest's RAM instead of limiting the kernel's."""
    memory, words = MACHINE.memory, list(extra)
    end = words.index("--") if "--" in words else len(words)
    for word in words[:end]:
        if word.startswith("mem="):
            memory = word.removeprefix("mem=")
    words = [w for i, w in enumerate(words) if i >= end or not w.startswith("mem=")]
    append = [f"console={MACHINE.console}", f"root={ROOT_TAG}", "rootfstype=9p",
              "rootflags=trans=virtio,version=9p2000.L,cache=loose", "ro", "panic=-1",
              f"init={init}", "zsbed_machine=qemu", *words]
    return [BINARY, *MACHINE.machine, "-m", memory, "-smp", str(MACHINE.cpus),
            *accel_.args, "-nodefaults", "-display", "none", "-no-reboot",
            "-serial", "stdio", "-name", f"guest={tag}",
            "-fsdev", "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap",
            "-device", f"virtio-9p-pci,fsdev=root,mount_tag={ROOT_TAG}",
            "-fsdev", f"local,id=out,path={_escape(outdir)},security_model=none",
            "-device", f"virtio-9p-pci,fsdev=out,mount_tag={OUT_TAG}",
            "-kernel", str(image), "-append", " ".join(append)]
