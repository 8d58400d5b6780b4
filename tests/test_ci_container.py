"""make ci-container: a job's steps read from the workflow itself, its
expressions filled in, and /dev/shm mounted as Docker would mount it."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from zsbed.ci import ci_container as cc
from zsbed.core.errors import ZsbedError

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def workflow() -> dict[str, object]:
    return cc._load_workflow(cc.WORKFLOW)


def test_a_matrix_entry_is_a_job_with_its_own_values(workflow: dict[str, object]) -> None:
    job = cc.find_job(workflow, "uml-test-fast")  # type: ignore[arg-type]
    runs = [cc.expand(str(s["run"]), job) for s in job.steps if "run" in s]
    assert any('CCACHE_DIR="$GITHUB_WORKSPACE/.ccache" bash ci/job.sh uml-test VARIANT=fast\n'
               in r for r in runs)
    # in a container job ${{ github.workspace }} is the runner's path, not the container's
    with pytest.raises(ZsbedError, match=r"is the runner's path, not the container's"):
        cc.expand("${{ github.workspace }}/.ccache", job)
    assert cc.condition("!cancelled() && matrix.save && github.event_name != 'pull_request'",
                        job)
    assert cc.condition("matrix.ccache", job) and cc.condition("always() && matrix.results", job)
    static = cc.find_job(workflow, "static")  # type: ignore[arg-type]
    assert not cc.condition("matrix.ccache", static)
    # the rehearsal is a push: the pull request's skip step does not run
    assert not cc.condition("matrix.paths && github.event_name == 'pull_request'", job)
    assert cc.condition("always() && matrix.id == 'uml-test-fast' && "
                        "github.event_name != 'pull_request'", job)
    assert not cc.condition("matrix.id == 'uml-test-fast'", static)
    assert cc.find_job(workflow, "fault").matrix["make"] == "fault"  # type: ignore[arg-type]
    assert cc.find_job(workflow, "merge").matrix == {}  # type: ignore[arg-type]


def test_unknown_and_runner_jobs_are_one_line(workflow: dict[str, object]) -> None:
    with pytest.raises(ZsbedError, match=r"JOB=nope: no such job .* \(jobs: static, "):
        cc.find_job(workflow, "nope")  # type: ignore[arg-type]
    with pytest.raises(ZsbedError, match="JOB=qemu: not a container job"):
        cc.find_job(workflow, "qemu")  # type: ignore[arg-type]


def test_an_expression_it_does_not_know_is_refused_before_any_work() -> None:
    job = cc.Job("j", [], {}, {}, "", 60)
    with pytest.raises(ZsbedError, match=r"'\$\{\{ secrets.TOKEN \}\}' is an expression"):
        cc.expand("echo ${{ secrets.TOKEN }}", job)
    with pytest.raises(ZsbedError, match="a condition the rehearsal does not know"):
        cc.condition("github.ref == 'refs/heads/main'", job)


@pytest.mark.parametrize("options, mount", [
    ("--privileged", ("tmpfs", "64m")),
    ("--privileged --shm-size=1g", ("tmpfs", "1g")),
    ("--shm-size 2g", ("tmpfs", "2g")),
    ("--ipc=host", ("host", "")),
    ("--ipc host --shm-size=1g", ("host", "")),
])
def test_dev_shm_as_docker_mounts_it(options: str, mount: tuple[str, str]) -> None:
    assert cc.shm_mount(options) == mount
    script = cc._script(cc.Job("j", [], {}, {}, options, 60), Path("/r"), mount)
    if mount[0] == "tmpfs":
        assert f"-o rw,nosuid,nodev,noexec,size={mount[1]} shm /r/dev/shm" in script
    else:
        assert "mount --bind /dev/shm /r/dev/shm" in script


def test_the_workflow_gives_uml_an_exec_directory() -> None:
    """job.sh mounts an exec tmpfs where /dev/shm is noexec: checked with a real
    noexec /dev/shm in a mount namespace, where we may make one."""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no mount namespace here")
    script = ("mount --make-rprivate /; mount -t tmpfs -o noexec,size=64m shm /dev/shm; "
              "env -u TMPDIR bash ci/job.sh variants")
    out = subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "UML's memory goes to TMPDIR=/run/zsbed-uml (tmpfs)" in out.stdout
