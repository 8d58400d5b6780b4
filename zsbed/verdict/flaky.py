"""``make flaky``'s result: per case, how often it failed over N runs.

``cli.boot_cmds.cmd_flaky`` boots; this writes ``flaky.json`` and ``flaky.md`` for
one run, or for the shards of one merged (``make merge``), with the
rows ``verdict.flaky_rows`` / ``verdict.merge_flaky_rows`` counted.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from zsbed.core import mdtable
from zsbed.core import disk, paths
from zsbed.core.progress import say

JSON = "flaky.json"


def conclude(run: Path, runs: int, variants: list[str], scenarios: int,
             rows: list[dict[str, Any]]) -> int:
    """Write the table; 1 if any case failed at least once."""
    disk.write_json(run / JSON, {"runs": runs, "variants": variants, "scenarios": scenarios,
                                 "cases": rows})
    failing = [r for r in rows if r["failed"]]
    lines = mdtable.table(["case", "failed", "runs", "first failure"],
                          [(r["case"], r["failed"], r["runs"],
                            r["first_failure"][:120].replace("|", "/")) for r in failing],
                          right={1, 2})
    table = "\n".join(lines)
    head = (f"{runs} runs of {len(rows)} cases ({', '.join(variants) or 'no'} plan, "
            f"{scenarios} scenarios); {len(failing)} failed at least once")
    disk.write_text(run / "flaky.md", f"{head}\n\n{table}\n")
    if failing:
        print(table)
    say(f"[flaky] {runs} runs, {len(rows)} cases: {len(failing)} failed at least once; "
        f"results: {paths.show(run)}/flaky.md")
    return 1 if failing else 0
