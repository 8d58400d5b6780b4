"""workflow: check the GitHub Actions workflow before CI has to.

The workflow is edited in ci/github/. GitHub runs only what is in
.github/workflows/, and whether it follows a symlink there cannot be
checked from here, so that directory holds plain copies: each must be
byte-identical to the file of the same name in ci/github/, so the file
checked here is the file GitHub runs.
Its syntax is checked against the workflow schema with the npm package
@action-validator/cli (installed into work/node/ on first use, from the
npm registry; node and npm come from Debian when missing). Its ``gate``
and ``full`` jobs' matrices must list the two tiers of ``zsbed/ci/matrix.py``,
entry for entry, and its ``merge`` job must wait for both and merge with
``MATRIX=<the tier that ran>``.
"""
from __future__ import annotations

import json
import re
import subprocess
from itertools import zip_longest
from pathlib import Path
from typing import Any

from zsbed.ci import matrix
from zsbed.core import deps, paths
from zsbed.core.errors import ZsbedError
from zsbed.core.progress import say, step

CI_DIR = paths.REPO / "ci" / "github"
GITHUB_DIR = paths.REPO / ".github" / "workflows"
VALIDATOR = ("@action-validator/cli@0.6.0", "@action-validator/core@0.6.0")
NODE_DIR = paths.WORK / "node"
MATRIX = "uml-test.yml"             # the workflow whose jobs are zsbed/ci/matrix.py's


def check_copies(github_dir: Path = GITHUB_DIR, ci_dir: Path = CI_DIR) -> list[Path]:
    """The workflows GitHub runs, each checked to be a copy of one in ci/github/."""
    found = sorted(p for p in github_dir.glob("*") if p.suffix in (".yml", ".yaml"))
    if not found:
        raise ZsbedError(f"{paths.show(github_dir)}: no workflow")
    sources = []
    for copy in found:
        source = ci_dir / copy.name
        if not source.is_file():
            raise ZsbedError(f"{paths.show(copy)}: no {paths.show(source)} "
                             f"(workflows are edited in {paths.show(ci_dir)}/)")
        if copy.is_symlink() or copy.read_bytes() != source.read_bytes():
            raise ZsbedError(f"{paths.show(copy)}: not a plain copy of {paths.show(source)} "
                             f"(run: cp {paths.show(source)} {paths.show(copy)})")
        sources.append(source)
    return sources


def matrix_problem(workflow: dict[str, Any]) -> str | None:
    """How the workflow's tiers and merge job differ from zsbed/ci/matrix.py, or None."""
    jobs = workflow.get("jobs") if isinstance(workflow, dict) else None
    if not isinstance(jobs, dict):
        return "no jobs"
    for tier in matrix.TIERS:
        try:
            include = jobs[tier]["strategy"]["matrix"]["include"]
            got = [(e["id"], e["make"], bool(e.get("results"))) for e in include]
        except (KeyError, TypeError):
            return f"no job '{tier}' with a strategy.matrix.include of {{id, make, results}}"
        want = [(j.id, " ".join(j.make), j.part is not None)
                for j in matrix.expand(tier=tier, only=True)]
        for index, (g, w) in enumerate(zip_longest(got, want), 1):
            if g != w:
                return (f"jobs.{tier} matrix entry #{index} is {_entry(g)}, zsbed/ci/matrix.py "
                        f"has {_entry(w)}")
    merge = jobs.get("merge")
    runs = " ".join(str(s.get("run", "")) for s in (merge or {}).get("steps", [])
                    if isinstance(s, dict))
    needs = merge.get("needs") if isinstance(merge, dict) else None
    if not isinstance(needs, list) or set(needs) != set(matrix.TIERS) \
            or "ci/job.sh merge" not in runs or "MATRIX=" not in runs:
        return ("no job 'merge' that needs 'gate' and 'full' and runs "
                "'bash ci/job.sh merge ... MATRIX=<tier>'")
    return None


def hash_problem(text: str) -> str | None:
    """A cache key's ``hashFiles()`` pattern, or a matrix entry's ``fragments``,
    that matches no file (its key would never change), or None."""
    for pattern in re.findall(r"hashFiles\(([^)]*)\)", text):
        for word in re.findall(r"'([^']+)'", pattern):
            if not any(paths.REPO.glob(word)):
                return f"hashFiles('{word}') matches no file: a cache key that never changes"
    for value in re.findall(r"fragments: \"?([^\",}]+)", text):
        if not any(paths.REPO.glob(value.strip())):
            return f"matrix fragments '{value.strip()}' match no file"
    # a pull request runs a job only if one of its paths changed: a path
    # left behind by a move would never trigger it
    for value in re.findall(r"paths: \"([^\"]+)\"", text):
        for word in value.split():
            if not (paths.REPO / word).exists():
                return f"matrix paths '{word}' is no file or directory: the job would never run"
    return None


def _entry(e: tuple[str, str, bool] | None) -> str:
    if e is None:
        return "nothing"
    return f"{{id: {e[0]}, make: {e[1]}{', results: true' if e[2] else ''}}}"


def _leaves(error: dict[str, Any]) -> list[dict[str, Any]]:
    """The innermost errors of action-validator's nested report."""
    nested = list(error.get("errors", []))
    for state in error.get("states", []):
        nested += state.get("errors", [])
    if not nested:
        return [error]
    return [leaf for e in nested for leaf in _leaves(e)]


def summarize(report: str) -> str:
    """One line from action-validator's JSON report: where and what."""
    try:
        data = json.loads(report[report.index("{"):])
    except ValueError:
        return report.strip().splitlines()[-1] if report.strip() else "no report"
    leaves = _leaves({"errors": data.get("errors", [])})
    if not leaves:
        return "invalid (no detail given)"
    first = leaves[0]
    where = first.get("path") or "/"
    line = f"{where}: {first.get('detail') or first.get('title', '?')}"
    if len(leaves) > 1:
        line += f" (and {len(leaves) - 1} more)"
    return line


def validator() -> Path:
    """action-validator, installed into work/node/ if it is not there yet."""
    exe = NODE_DIR / "node_modules" / ".bin" / "action-validator"
    if exe.exists():
        return exe
    deps.ensure(node=True)
    with step("workflow", f"npm install {' '.join(VALIDATOR)} into {paths.show(NODE_DIR)}"):
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["npm", "install", "--prefix", str(NODE_DIR), "--no-save",
                               "--no-audit", "--no-fund", *VALIDATOR],
                              capture_output=True, text=True)
        if proc.returncode != 0 or not exe.exists():
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            raise ZsbedError(f"workflow: npm install of the validator failed: {last}")
    return exe


def check() -> int:
    """Stage entry point: copies in place and every workflow schema-valid."""
    import yaml

    targets = check_copies()
    for wf in (t for t in targets if t.name == MATRIX):
        try:
            problem = matrix_problem(yaml.safe_load(wf.read_text())) or \
                hash_problem(wf.read_text())
        except yaml.YAMLError as exc:
            problem = f"not YAML ({' '.join(str(exc).split())[:200]})"
        if problem:
            raise ZsbedError(f"{paths.show(wf)}: {problem}")
    exe = validator()
    for wf in targets:
        proc = subprocess.run([str(exe), str(wf)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise ZsbedError(f"{paths.show(wf)}: not a valid workflow: "
                             f"{summarize(proc.stderr + proc.stdout)}")
        say(f"[workflow] {paths.show(wf)}: valid ({VALIDATOR[0]})")
    return 0
