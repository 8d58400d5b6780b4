"""The workflow check: copies of ci/github/ and action-validator's report."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed.ci import workflow
from zsbed.core.errors import ZsbedError


def _layout(tmp_path: Path) -> tuple[Path, Path]:
    ci = tmp_path / "ci" / "github"
    gh = tmp_path / ".github" / "workflows"
    ci.mkdir(parents=True)
    gh.mkdir(parents=True)
    (ci / "uml-test.yml").write_text("name: x\n")
    return gh, ci


def test_identical_copy_is_accepted(tmp_path: Path) -> None:
    gh, ci = _layout(tmp_path)
    (gh / "uml-test.yml").write_text("name: x\n")
    assert workflow.check_copies(gh, ci) == [ci / "uml-test.yml"]


def test_edited_copy_is_refused(tmp_path: Path) -> None:
    gh, ci = _layout(tmp_path)
    (gh / "uml-test.yml").write_text("name: edited here\n")
    with pytest.raises(ZsbedError, match="uml-test.yml: not a plain copy of .*uml-test.yml "
                                         r"\(run: cp "):
        workflow.check_copies(gh, ci)


def test_symlink_is_refused(tmp_path: Path) -> None:
    # GitHub may not follow it: the file there must be a real one
    gh, ci = _layout(tmp_path)
    (gh / "uml-test.yml").symlink_to("../../ci/github/uml-test.yml")
    with pytest.raises(ZsbedError, match="not a plain copy"):
        workflow.check_copies(gh, ci)


def test_workflow_without_source_is_refused(tmp_path: Path) -> None:
    gh, ci = _layout(tmp_path)
    (gh / "other.yml").write_text("name: y\n")
    with pytest.raises(ZsbedError, match="other.yml: no .*other.yml"):
        workflow.check_copies(gh, ci)


def test_no_workflow_is_an_error(tmp_path: Path) -> None:
    gh, ci = _layout(tmp_path)
    with pytest.raises(ZsbedError, match="no workflow"):
        workflow.check_copies(gh, ci)


def test_summary_of_a_saved_report(data: Path) -> None:
    # the saved report is action-validator 0.6.0 on a job with 'stepz:'
    line = workflow.summarize((data / "action-validator-bad.json").read_text())
    assert line == "/jobs/a: Additional property 'stepz' is not allowed (and 3 more)"


def test_summary_of_a_parse_error() -> None:
    report = ('{"actionType": "workflow", "errors": [{"code": "parse_error", '
              '"detail": "did not find expected \',\' at line 3 column 1", "path": "", '
              '"title": "Parse Error"}]}')
    assert workflow.summarize(report) == "/: did not find expected ',' at line 3 column 1"


def test_summary_without_json() -> None:
    assert workflow.summarize("Error: no such file\n") == "Error: no such file"


def _real() -> dict[str, object]:
    import yaml

    data = yaml.safe_load((workflow.CI_DIR / workflow.MATRIX).read_text())
    assert isinstance(data, dict)
    return data


def test_the_workflow_runs_the_matrix_of_zsbed_matrix_py() -> None:
    assert workflow.matrix_problem(_real()) is None


def test_a_matrix_entry_that_differs_is_named() -> None:
    data = _real()
    include = data["jobs"]["full"]["strategy"]["matrix"]["include"]  # type: ignore[index]
    include[4]["make"] = "mutants SHARD=2/4"
    assert workflow.matrix_problem(data) == (
        "jobs.full matrix entry #5 is {id: mutants-2of3, make: mutants SHARD=2/4, results: true}"
        ", zsbed/ci/matrix.py has {id: mutants-2of3, make: mutants SHARD=2/3, results: true}")
    del include[4:]
    assert workflow.matrix_problem(data) == (
        "jobs.full matrix entry #5 is nothing, zsbed/ci/matrix.py has "
        "{id: mutants-2of3, make: mutants SHARD=2/3, results: true}")
    gate = _real()
    gate["jobs"]["gate"]["strategy"]["matrix"]["include"].pop(4)  # type: ignore[index]
    assert workflow.matrix_problem(gate) == (
        "jobs.gate matrix entry #5 is nothing, zsbed/ci/matrix.py has "
        "{id: fault, make: fault, results: true}")


def test_the_merge_job_must_merge_both_tiers() -> None:
    data = _real()
    data["jobs"]["merge"]["needs"] = ["gate"]  # type: ignore[index]
    assert "no job 'merge' that needs 'gate' and 'full'" in str(workflow.matrix_problem(data))
    assert "no job 'gate'" in str(workflow.matrix_problem({"jobs": {}}))


def test_every_hashed_pattern_matches_a_file() -> None:
    text = (workflow.CI_DIR / workflow.MATRIX).read_text()
    assert workflow.hash_problem(text) is None
    assert workflow.hash_problem(text.replace("patches/kernel.toml", "zsbed/kernel/fetch.py")) is None
    moved = text.replace("zsbed/kernel/patch.py", "zsbed/gone/patch.py")
    assert workflow.hash_problem(moved) == ("matrix paths 'zsbed/gone/patch.py' is no file or "
                                            "directory: the job would never run")
    assert workflow.hash_problem(text.replace("'patches/kernel.toml'", "'zsbed/kernel.toml'")) \
        == "hashFiles('zsbed/kernel.toml') matches no file: a cache key that never changes"
    assert workflow.hash_problem(text.replace("fragments: uml-config/deep.config",
                                              "fragments: uml-config/dep.config")) \
        == "matrix fragments 'uml-config/dep.config' match no file"
