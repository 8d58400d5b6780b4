"""pytest plugin: every case of a zsbed run is a pytest test.

``pytest results/latest/cases.json -p zsbed.results.pytest_plugin`` collects one test
per case; ``-k`` selects, ``--junitxml`` writes native JUnit XML, and
summary.json (next to cases.json) records what ran.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar, cast

import pytest

from zsbed.verdict.outcome import Outcome
from zsbed.results import report as zreport
from zsbed.plan.parse import Case


class CaseFailed(Exception):
    """A case the kernel reported as failed or crashed."""


class CaseItem(pytest.Item):
    """One KTAP test case, boot check or exit-status check."""

    def __init__(self, *, case: Case, info: zreport.RunInfo, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.info = info
        self.user_properties.append(("variant", info.variant))
        self.user_properties.append(("kernel", info.kernel))

    def setup(self) -> None:
        # a case that crashed or never ran is a JUnit <error>, not a <failure>
        if self.case.outcome == Outcome.ERROR:
            raise CaseFailed(self.case)

    def runtest(self) -> None:
        if self.case.outcome == Outcome.SKIPPED:
            pytest.skip(self.case.message or "skipped by the test")
        if self.case.outcome != Outcome.PASSED:
            raise CaseFailed(self.case)

    def case_text(self) -> str:
        text = f"{self.case.outcome}: {self.case.message}"
        return text + (f"\n{self.case.log}" if self.case.log else "")

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return self.case_text()
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.case.name


class CasesFile(pytest.File):
    """A results/<run-id>/cases.json file."""

    def collect(self) -> Iterator[CaseItem]:
        info, cases = zreport.load_cases(self.path)
        for case in cases:
            yield CaseItem.from_parent(self, name=case.name, case=case, info=info)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.File | None:
    if file_path.name == zreport.CASES:
        found: CasesFile = CasesFile.from_parent(parent, path=file_path)
        return found
    return None


_Hook = TypeVar("_Hook", bound=Callable[..., Any])


def _hookwrapper(func: _Hook) -> _Hook:
    """pytest.hookimpl(hookwrapper=True), typed (Debian's pytest is not)."""
    return cast(_Hook, pytest.hookimpl(hookwrapper=True)(func))


@_hookwrapper
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Show a setup error (a crashed case) as its KTAP, not as a traceback."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if (isinstance(item, CaseItem) and call.when == "setup" and call.excinfo is not None
            and isinstance(call.excinfo.value, CaseFailed)):
        report.longrepr = item.case_text()


_entries: dict[str, list[dict[str, Any]]] = {}
_cases: dict[str, tuple[Case, zreport.RunInfo, str]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    item_case = _cases.get(report.nodeid)
    if item_case is None:
        return
    case, info, run = item_case
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _entries.setdefault(run, []).append(
            zreport.summary_entry(case, info, report.outcome))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if isinstance(item, CaseItem):
            _cases[item.nodeid] = (item.case, item.info, str(item.path.parent))


def pytest_sessionfinish(session: pytest.Session) -> None:
    for run, entries in _entries.items():
        zreport.write_summary(Path(run), entries)
