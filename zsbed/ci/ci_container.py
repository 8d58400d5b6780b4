"""make ci-container: one job of the GitHub workflow, rehearsed in a container
made like GitHub's.

GitHub runs the workflow's container jobs in Docker's ``debian:12`` with the
job's ``container.options``. Docker's own tools cannot start a container on
every machine (podman and runc are refused setting rlimits on zsbed's), so
the rehearsal builds what matters by hand:

- a Debian 12 ``minbase`` root file system from the Debian archive
  (``mmdebstrap``; the mirror is the host's own, read at run time, and so
  are the npm registry the job's npm is pointed at and the certificate
  authorities the host added, which the job's ca-certificates takes in), built
  once and kept as a tarball in ``work/ci-container/``, then unpacked fresh
  for every run, so the job gets only the packages its steps install;
- the repository cloned fresh at ``REV`` (default HEAD; what is committed,
  as GitHub checks it out) into the workspace path GitHub uses;
- private mount and PID namespaces (``unshare -m -p -f``) and a chroot, with
  ``/proc``, the host's ``/dev`` (``--privileged``) and ``/sys``; and
  ``/dev/shm`` as Docker mounts it: tmpfs, ``noexec``, 64 MiB unless the job
  says ``--shm-size``, the host's with ``--ipc=host``;
- the job's steps as the workflow file says them (read here, never copied):
  ``run:`` steps through ``bash -e``, with the job's ``env:`` and the
  ``${{ matrix.* }}`` values filled in (``${{ github.workspace }}`` is refused:
  in a container job GitHub gives the host's path, so steps must use
  ``$GITHUB_WORKSPACE``);
  ``actions/checkout`` is the fresh clone; the cache and artifact actions are
  not rehearsed (a fork's first run has no cache: this is that run).

It reports each step's time and exit status, the job's peak memory (the
cgroup's, page cache included) and peak disk use (the root file system,
sampled), against a standard runner's 16 GB and 14 GB, and keeps the job's
results and a log under ``results/<time>-ci-container-<job>/``.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsbed.verdict.outcome import Outcome as CaseOutcome
from zsbed.core import deps, disk, mdtable, paths
from zsbed.kernel import fetch
from zsbed.results import report
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say, step

WORKFLOW = paths.REPO / "ci" / "github" / "uml-test.yml"
CACHE = paths.WORK / "ci-container"
SUITE = "bookworm"                       # debian:12
WORKSPACE = "/__w/zsbed/zsbed"           # GitHub's $GITHUB_WORKSPACE in a job container
RUNNER_MEMORY = 16 << 30                 # a standard Linux runner
RUNNER_DISK = 14 << 30                   # its free disk
DOCKER_SHM = "64m"
EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class Job:
    """One job of the workflow, as a container would run it."""

    id: str
    steps: list[dict[str, Any]]
    env: dict[str, str]
    matrix: dict[str, Any]
    options: str                   # container.options
    timeout: float                 # seconds


@dataclass
class Outcome:
    """What the rehearsal saw."""

    steps: list[tuple[str, float, str]] = field(default_factory=list)  # name, s, status
    peak_memory: int | None = None
    peak_disk: int = 0
    memory_note: str = ""


def _load_workflow(path: Path) -> dict[str, Any]:
    try:
        import yaml
    except ImportError:
        deps.ensure()
        import yaml
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ZsbedError(f"{paths.show(path)}: cannot be read as YAML ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), dict):
        raise ZsbedError(f"{paths.show(path)}: no jobs")
    return data


def job_ids(workflow: dict[str, Any]) -> list[str]:
    """Every job a person can name: a matrix entry's id, or a job's key."""
    ids: list[str] = []
    for key, job in workflow["jobs"].items():
        include = (job.get("strategy") or {}).get("matrix", {}).get("include")
        ids += [str(e["id"]) for e in include] if include else [key]
    return ids


def find_job(workflow: dict[str, Any], job_id: str) -> Job:
    """The job (or matrix entry) called ``job_id``; one line when there is none
    or when it is no container job."""
    for key, job in workflow["jobs"].items():
        include = (job.get("strategy") or {}).get("matrix", {}).get("include") or []
        entries = [e for e in include if e.get("id") == job_id]
        if not entries and key != job_id:
            continue
        if not job.get("container"):
            raise ZsbedError(f"JOB={job_id}: not a container job (it runs on the runner "
                             f"itself); the rehearsal runs container jobs only")
        container = job["container"]
        return Job(id=job_id, steps=list(job.get("steps") or []),
                   env={k: str(v) for k, v in (job.get("env") or {}).items()},
                   matrix=entries[0] if entries else {},
                   options=str(container.get("options", "")) if isinstance(container, dict)
                   else "", timeout=float(job.get("timeout-minutes", 360)) * 60)
    raise ZsbedError(f"JOB={job_id}: no such job in {paths.show(WORKFLOW)} "
                     f"(jobs: {', '.join(job_ids(workflow))})")


def expand(text: str, job: Job) -> str:
    """Fill in ``${{ matrix.X }}``, ``${{ github.workspace }}`` and the like."""
    def value(m: re.Match[str]) -> str:
        expr = m.group(1)
        if expr.startswith("matrix."):
            v = job.matrix.get(expr.removeprefix("matrix."), "")
            return "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
        if expr == "github.workspace":
            raise ZsbedError(f"{paths.show(WORKFLOW)}: job {job.id}: '${{{{ github.workspace }}}}'"
                             f" is the runner's path, not the container's: use "
                             f"$GITHUB_WORKSPACE in the step")
        raise ZsbedError(f"{paths.show(WORKFLOW)}: job {job.id}: '${{{{ {expr} }}}}' "
                         f"is an expression the rehearsal does not know")
    return EXPR.sub(value, text)


EVENT = "push"                          # what the rehearsal stands for: a push


def _operand(word: str, job: Job) -> str | None:
    """A value a condition compares: a matrix value, the event's name, or a literal."""
    if word.startswith("'") and word.endswith("'"):
        return word[1:-1]
    if word.startswith("matrix."):
        v = job.matrix.get(word.removeprefix("matrix."))
        return None if v is None or v is False else str(v).lower() if v is True else str(v)
    if word == "github.event_name":
        return EVENT
    raise ValueError(word)


def condition(text: Any, job: Job) -> bool:
    """A step's ``if:``: always(), matrix values and ``==``/``!=`` comparisons
    of matrix values and github.event_name, joined by ``&&``. The rehearsal
    is a push."""
    if text is None:
        return True
    ok = True
    for part in str(text).removeprefix("${{").removesuffix("}}").split("&&"):
        part = part.strip()
        if part in ("always()", "success()", "!cancelled()"):
            continue
        m = re.fullmatch(r"(\S+)\s*(==|!=)\s*(\S+)", part)
        try:
            if m:
                same = _operand(m.group(1), job) == _operand(m.group(3), job)
                ok = ok and (same if m.group(2) == "==" else not same)
            else:
                ok = ok and bool(_operand(part, job))
        except ValueError:
            raise ZsbedError(f"{paths.show(WORKFLOW)}: job {job.id}: 'if: {text}' is a "
                             f"condition the rehearsal does not know") from None
    return ok


def shm_mount(options: str) -> tuple[str, str]:
    """How Docker would mount the container's /dev/shm: ('host', '') with
    --ipc=host, else ('tmpfs', size)."""
    words = shlex.split(options)
    if "--ipc=host" in words or ("--ipc" in words and words[words.index("--ipc") + 1:][:1]
                                 == ["host"]):
        return "host", ""
    size = DOCKER_SHM
    for i, w in enumerate(words):
        if w.startswith("--shm-size="):
            size = w.split("=", 1)[1]
        elif w == "--shm-size" and i + 1 < len(words):
            size = words[i + 1]
    return "tmpfs", size


def rootfs() -> Path:
    """The Debian 12 minbase tarball, built once from the host's mirror."""
    tar = CACHE / f"{SUITE}-minbase.tar"
    if tar.is_file():
        return tar
    deps.ensure(container=True)
    uri, _ = fetch.host_mirror()
    CACHE.mkdir(parents=True, exist_ok=True)
    part = tar.with_suffix(".tar.tmp")
    with step("ci-container", f"mmdebstrap --variant=minbase {SUITE} (Debian 12, once)"):
        proc = subprocess.run(["mmdebstrap", "--variant=minbase", "--format=tar", "--quiet",
                               SUITE, str(part), uri], capture_output=True, text=True)
        if proc.returncode != 0:
            part.unlink(missing_ok=True)
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            raise ZsbedError(f"ci-container: mmdebstrap failed: {last}")
        os.replace(part, tar)
    return tar


def _script(job: Job, root: Path, shm: tuple[str, str]) -> str:
    """The shell run in the new namespaces: the mounts, then the chroot."""
    r = shlex.quote(str(root))
    shm_cmd = (f"mount --bind /dev/shm {r}/dev/shm" if shm[0] == "host" else
               f"mount -t tmpfs -o rw,nosuid,nodev,noexec,size={shm[1]} shm {r}/dev/shm")
    return "\n".join([
        "set -e",
        "mount --make-rprivate /",
        f"mount -t proc proc {r}/proc",
        f"mount --rbind /dev {r}/dev",
        f"mount --rbind /sys {r}/sys",
        shm_cmd,
        f"cp /etc/resolv.conf {r}/etc/resolv.conf 2>/dev/null || true",
        f'exec chroot {r} /usr/bin/env -i "$@"',
    ])


def _memory_cgroup() -> tuple[Path | None, str]:
    """A fresh memory cgroup (v1 or v2) below this process's own, or why none."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, rel = line.split(":", 2)
        if "memory" in controllers.split(","):
            base = Path("/sys/fs/cgroup/memory") / rel.lstrip("/")
            peak = "memory.max_usage_in_bytes"
            break
        if controllers == "" and Path("/sys/fs/cgroup/cgroup.controllers").is_file():
            base = Path("/sys/fs/cgroup") / rel.lstrip("/")
            peak = "memory.peak"
            break
    else:
        return None, "no memory cgroup"
    group = base / f"zsbed-ci-{os.getpid()}"
    try:
        group.mkdir()
    except OSError as exc:
        return None, f"no memory cgroup ({exc.strerror})"
    if not (group / peak).is_file():
        group.rmdir()
        return None, f"no {peak}"
    return group, peak


def host_npm_registry() -> dict[str, str]:
    """The npm registry this machine reaches, for the container's npm (as the
    root file system's apt sources are the host's mirror): none when the host
    has no npm."""
    if not shutil.which("npm"):
        return {}
    proc = subprocess.run(["npm", "config", "get", "registry"], capture_output=True,
                          text=True)
    registry = proc.stdout.strip()
    return {"npm_config_registry": registry} if proc.returncode == 0 and registry else {}


def _du(path: Path) -> int:
    proc = subprocess.run(["du", "-sxb", str(path)], capture_output=True, text=True)
    try:
        return int(proc.stdout.split()[0])
    except (IndexError, ValueError):
        return 0


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _must(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        raise ZsbedError(f"ci-container: {what} failed: {last}")


def _run_in(root: Path, job: Job, script: str, env: dict[str, str], log: Any,
            deadline: float) -> int:
    """One step's shell in fresh namespaces; its exit status (124 at the deadline)."""
    cmd = ["unshare", "-m", "-p", "-f", "--kill-child", "sh", "-c",
           _script(job, root, shm_mount(job.options)), "rehearsal",
           *(f"{k}={v}" for k, v in env.items()),
           "bash", "-e", "-c", f"cd {WORKSPACE} 2>/dev/null || cd /\n{script}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    assert proc.stdout is not None
    killer = threading.Timer(max(1.0, deadline - time.monotonic()), _kill, (proc.pid,))
    killer.start()
    try:
        for raw in proc.stdout:
            log.write(raw)
            log.flush()
            print(raw.decode(errors="replace"), end="", flush=True)
        code = proc.wait()
    finally:
        killer.cancel()
        _kill(proc.pid)
        proc.wait()
    return 124 if time.monotonic() >= deadline else code


def rehearse(job_id: str, rev: str = "HEAD", keep: bool = False) -> int:
    """Run one job of the workflow in a container made like GitHub's."""
    if os.geteuid() != 0:
        raise ZsbedError("ci-container: needs root (mount namespaces, chroot)")
    workflow = _load_workflow(WORKFLOW)
    job = find_job(workflow, job_id)
    for s in job.steps:          # every expression and condition, before any work
        expand(str(s.get("run", "")), job)
        condition(s.get("if"), job)
        for v in (s.get("env") or {}).values():
            expand(str(v), job)
    for v in job.env.values():
        expand(v, job)
    commit = subprocess.run(["git", "-C", str(paths.REPO), "rev-parse", "--verify",
                             f"{rev}^{{commit}}"], capture_output=True, text=True)
    if commit.returncode != 0:
        raise ZsbedError(f"REV={rev}: not a commit of this repository")
    sha = commit.stdout.strip()
    tar = rootfs()
    run = report.new_run(f"ci-container-{job_id}")
    root = CACHE / f"root-{job_id}"
    with step("ci-container", f"a fresh Debian 12 root and a clone of {sha[:12]}"):
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        _must(["tar", "-xf", str(tar), "-C", str(root)], f"unpacking {paths.show(tar)}")
        ws = root / WORKSPACE.lstrip("/")
        ws.parent.mkdir(parents=True, exist_ok=True)
        _must(["git", "clone", "-q", "--no-local", str(paths.REPO), str(ws)], "git clone")
        _must(["git", "-C", str(ws), "checkout", "-q", sha], f"git checkout {sha[:12]}")
        # the host's own certificate authorities (an egress proxy's, where the
        # host has one): the job's ca-certificates adds them, so that its
        # https reaches what the host reaches, as a runner's does
        local_ca = Path("/usr/local/share/ca-certificates")
        if local_ca.is_dir():
            shutil.copytree(local_ca, root / local_ca.relative_to("/"), dirs_exist_ok=True)
        summary = root / "__w/_temp/step_summary.md"
        github_env = root / "__w/_temp/github_env"
        summary.parent.mkdir(parents=True, exist_ok=True)
        summary.touch()
        github_env.touch()
    shm = shm_mount(job.options)
    shm_text = "the host's (--ipc=host)" if shm[0] == "host" else f"tmpfs noexec, {shm[1]}"
    say(f"[ci-container] {job_id}: /dev/shm {shm_text}; "
        f"{len(job.steps)} steps; time limit {job.timeout / 60:.0f} min")
    env = {"HOME": "/github/home", "PATH": PATH, "CI": "true", "GITHUB_ACTIONS": "true",
           "GITHUB_WORKSPACE": WORKSPACE, "GITHUB_STEP_SUMMARY": "/__w/_temp/step_summary.md",
           "GITHUB_ENV": "/__w/_temp/github_env", "RUNNER_TEMP": "/__w/_temp",
           "GITHUB_EVENT_NAME": EVENT, "DEBIAN_FRONTEND": "noninteractive",
           **host_npm_registry(),
           **{k: expand(v, job) for k, v in job.env.items()}}
    (root / "github/home").mkdir(parents=True, exist_ok=True)
    # this process and all it starts are in the cgroup: the job's peak memory
    cgroup, peak_file = _memory_cgroup()
    out = Outcome(memory_note="" if cgroup else peak_file)
    if cgroup:
        (cgroup / "cgroup.procs").write_text(str(os.getpid()))
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(30):
            out.peak_disk = max(out.peak_disk, _du(root))
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    deadline = time.monotonic() + job.timeout
    code = 0
    try:
        with (run / "ci-container.log").open("wb") as log:
            for index, s in enumerate(job.steps, 1):
                name = expand(str(s.get("name") or s.get("uses") or ""), job) or str(
                           (expand(str(s.get("run", "")), job).splitlines() or ["?"])[0])
                status_check = re.search(r"always\(\)|cancelled\(\)|failure\(\)",
                                         str(s.get("if", "")))
                if not condition(s.get("if"), job) or (code and not status_check):
                    out.steps.append((name, 0.0, CaseOutcome.SKIPPED))
                    continue
                if "run" not in s:
                    note = ("the fresh clone" if str(s.get("uses", "")).startswith(
                        "actions/checkout") else "not rehearsed")
                    say(f"[ci-container] step {index}: {s.get('uses')}: {note}")
                    out.steps.append((name, 0.0, note))
                    continue
                say(f"[ci-container] step {index}: {name}")
                start = time.monotonic()
                # $GITHUB_ENV lines of earlier steps, then the step's own env:
                for line in github_env.read_text(errors="replace").splitlines():
                    key, eq, value = line.partition("=")
                    if eq:
                        env[key] = value
                step_env = {k: expand(str(v), job) for k, v in (s.get("env") or {}).items()}
                rc = _run_in(root, job, expand(str(s["run"]), job), {**env, **step_env}, log,
                             deadline)
                out.steps.append((name, time.monotonic() - start,
                                  CaseOutcome.PASSED if rc == 0 else f"{CaseOutcome.FAILED} (exit {rc})"))
                code = code or rc
                if rc == 124:
                    say(f"[ci-container] {job_id}: the job's {job.timeout / 60:.0f} min ran out")
                    break
    finally:
        sampling.set()
        out.peak_disk = max(out.peak_disk, _du(root))
        if cgroup:
            try:
                out.peak_memory = int((cgroup / peak_file).read_text())
            except (OSError, ValueError):
                out.memory_note = f"{peak_file} unreadable"
        results = root / WORKSPACE.lstrip("/") / "results"
        latest = results / "latest"
        if latest.exists():
            shutil.copytree(latest.resolve(), run / "job-results", symlinks=True,
                            dirs_exist_ok=True)
        if summary.stat().st_size:
            shutil.copy(summary, run / "step_summary.md")
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
        if cgroup:
            try:
                (cgroup.parent / "cgroup.procs").write_text(str(os.getpid()))
                cgroup.rmdir()
            except OSError:
                pass
    _report(run, job_id, sha, out, code)
    return 1 if code else 0


def _report(run: Path, job_id: str, sha: str, out: Outcome, code: int) -> None:
    lines = [f"# make ci-container JOB={job_id} at {sha[:12]}: "
             f"{CaseOutcome.PASSED if code == 0 else 'FAILED'}", "",
             *mdtable.table(["step", "time", "result"],
                            [(f"`{n[:70]}`", f"{s:.0f} s", r) for n, s, r in out.steps],
                            right={1})]
    mem = (f"{out.peak_memory / 2**30:.1f} GiB of the runner's {RUNNER_MEMORY >> 30} GB "
           f"(page cache and tmpfs included)" if out.peak_memory is not None
           else f"not measured ({out.memory_note})")
    lines += ["", f"- peak memory: {mem}",
              f"- peak disk (root file system, sampled every 30 s): "
              f"{out.peak_disk / 2**30:.1f} GiB of the runner's {RUNNER_DISK >> 30} GB free", ""]
    disk.write_text(run / "ci-container.md", "\n".join(lines))
    total = sum(s for _, s, _ in out.steps)
    say(f"[ci-container] {job_id}: {CaseOutcome.PASSED if code == 0 else 'FAILED'} in {total:.0f} s; "
        f"peak memory {mem}; peak disk {out.peak_disk / 2**30:.1f} GiB")
    say(f"results: {paths.show(run)}: ci-container.md, ci-container.log, job-results/")
