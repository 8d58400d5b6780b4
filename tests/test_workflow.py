"""The workflow check: symlinks into ci/github/ and action-validator's report."""
from __future__ import annotations

from pathlib import Path

import pytest

from zsbed import workflow
from zsbed.errors import ZsbedError


def _layout(tmp_path: Path) -> tuple[Path, Path]:
    ci = tmp_path / "ci" / "github"
    gh = tmp_path / ".github" / "workflows"
    ci.mkdir(parents=True)
    gh.mkdir(parents=True)
    (ci / "uml-test.yml").write_text("name: x\n")
    return gh, ci


def test_symlink_into_ci_is_accepted(tmp_path: Path) -> None:
    gh, ci = _layout(tmp_path)
    (gh / "uml-test.yml").symlink_to("../../ci/github/uml-test.yml")
    assert workflow.check_links(gh, ci) == [(ci / "uml-test.yml").resolve()]


def test_plain_file_in_github_dir_is_refused(tmp_path: Path) -> None:
    gh, ci = _layout(tmp_path)
    (gh / "other.yml").write_text("name: y\n")
    with pytest.raises(ZsbedError, match="other.yml: not a symlink"):
        workflow.check_links(gh, ci)


def test_symlink_elsewhere_is_refused(tmp_path: Path) -> None:
    gh, ci = _layout(tmp_path)
    (tmp_path / "elsewhere.yml").write_text("name: z\n")
    (gh / "uml-test.yml").symlink_to("../../elsewhere.yml")
    with pytest.raises(ZsbedError, match="points at ../../elsewhere.yml"):
        workflow.check_links(gh, ci)


def test_no_workflow_is_an_error(tmp_path: Path) -> None:
    gh, ci = _layout(tmp_path)
    with pytest.raises(ZsbedError, match="no workflow"):
        workflow.check_links(gh, ci)


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
