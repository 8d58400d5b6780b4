"""Debian packages zsbed needs, checked (and installed as root) up front."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

from zsbed.core.errors import ZsbedError
from zsbed.core.progress import step

# (package, how to tell it is there)
NEEDED: tuple[tuple[str, str], ...] = (
    ("gcc", "cmd:gcc"),
    ("make", "cmd:make"),
    ("flex", "cmd:flex"),
    ("bison", "cmd:bison"),
    ("bc", "cmd:bc"),
    ("patch", "cmd:patch"),
    ("xz-utils", "cmd:xz"),
    ("perl", "cmd:perl"),
    ("libc6-dev", "file:/usr/include/stdio.h"),
    ("ccache", "cmd:ccache"),
    ("python3-pytest", "py:pytest"),
    ("python3-ply", "py:ply"),        # checkpatch's SPDX check
    ("python3-git", "py:git"),        # checkpatch's SPDX check
    ("python3-hypothesis", "py:hypothesis"),   # make unit's fuzz tests
    ("python3-yaml", "py:yaml"),      # the workflow's matrix, checked against zsbed/ci/matrix.py
    ("python3-jinja2", "py:jinja2"),  # the HTML reports (mutation, coverage)
    ("mypy", "cmd:mypy"),             # make lint holds zsbed/ to mypy --strict
    ("python3-flake8", "py:flake8"),  # and to flake8
    ("python3-typeshed", "file:/usr/lib/python3/dist-packages/yaml-stubs/__init__.pyi"),  # its yaml stubs
)
LOCK_WAIT = 600         # seconds apt waits for another apt's dpkg lock
# only for make coverage / make bench
COVERAGE: tuple[tuple[str, str], ...] = (("gcovr", "cmd:gcovr"),)
BENCH: tuple[tuple[str, str], ...] = (("gnuplot-nox", "cmd:gnuplot"),)
# only for make peer: the kselftest install uses rsync; zram01 and the guest's
# disk use mkfs.ext4; selftests/mm includes libcap's and libnuma's headers
PEER: tuple[tuple[str, str], ...] = (("rsync", "cmd:rsync"), ("e2fsprogs", "cmd:mkfs.ext4"),
                                     ("libcap-dev", "file:/usr/include/sys/capability.h"),
                                     ("libnuma-dev", "file:/usr/include/numa.h"))
# only for the workflow check (action-validator comes from the npm registry)
NODE: tuple[tuple[str, str], ...] = (("nodejs", "cmd:node"), ("npm", "cmd:npm"))
# only for make series-build (x86_64's prepare builds objtool and sign-file)
X86: tuple[tuple[str, str], ...] = (("libelf-dev", "file:/usr/include/libelf.h"),
                                    ("libssl-dev", "file:/usr/include/openssl/ssl.h"))
# only for make ci-container: the Debian 12 root file system of the rehearsal
CONTAINER: tuple[tuple[str, str], ...] = (("mmdebstrap", "cmd:mmdebstrap"),)
# only for the x86_64 guest (make qemu-test): its build (as X86), QEMU, and
# the qboot firmware QEMU's own data package ships
QEMU: tuple[tuple[str, str], ...] = X86 + (("qemu-system-x86", "cmd:qemu-system-x86_64"),
                                           ("qemu-system-data", "file:/usr/share/qemu/qboot.rom"))


def _present(probe: str) -> bool:
    kind, _, what = probe.partition(":")
    if kind == "cmd":
        return shutil.which(what) is not None
    if kind == "file":
        return Path(what).exists()
    return importlib.util.find_spec(what) is not None


def missing(extra: tuple[tuple[str, str], ...] = ()) -> list[str]:
    """Packages whose probe fails."""
    return [pkg for pkg, probe in NEEDED + extra if not _present(probe)]


def ensure(coverage: bool = False, bench: bool = False, node: bool = False,
           x86: bool = False, peer: bool = False, qemu: bool = False,
           container: bool = False) -> None:
    """Install what is missing (as root), or say exactly what to install."""
    extra = ((COVERAGE if coverage else ()) + (BENCH if bench else ())
             + (NODE if node else ()) + (X86 if x86 else ()) + (PEER if peer else ())
             + (QEMU if qemu else ()) + (CONTAINER if container else ()))
    absent = missing(extra)
    if not absent:
        return
    if os.geteuid() != 0:
        raise ZsbedError(f"missing Debian packages: {' '.join(absent)} "
                         f"(run: sudo apt-get install {' '.join(absent)})")
    with step("deps", f"apt-get install {' '.join(absent)}"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        # another apt on the machine (an unattended upgrade, a second job)
        # holds dpkg's lock for a while: wait for it rather than fail
        wait = ["-o", f"DPkg::Lock::Timeout={LOCK_WAIT}"]
        for cmd in (["apt-get", *wait, "update", "-qq"],
                    ["apt-get", *wait, "install", "-y", "-qq", "--no-install-recommends",
                     *absent]):
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["?"])[-1]
                raise ZsbedError(f"deps: apt-get {cmd[3]} failed: {last}")
    importlib.invalidate_caches()
    still = missing(extra)
    if still:
        raise ZsbedError(f"deps: still missing after install: {' '.join(still)}")
