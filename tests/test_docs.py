"""The README and docs/ are read as one set of pages: every relative link
must reach a file, and every #anchor a heading of that file. The README
stays a front page (at most 200 lines); the rest lives in docs/."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings."""
    out = set()
    for line in page.read_text().splitlines():
        m = re.match(r"^#+ (.*)", line)
        if m:
            out.add(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
    return out


def broken_links(page: Path, root: Path = REPO) -> list[str]:
    out = []
    in_code = False
    for n, line in enumerate(page.read_text().splitlines(), 1):
        if line.startswith("```"):
            in_code = not in_code
        if in_code:
            continue
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                out.append(f"{page.relative_to(root)}:{n}: {target}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                out.append(f"{page.relative_to(root)}:{n}: {target}: no such heading")
    return out


def test_every_link_reaches_its_page_and_heading() -> None:
    assert [b for page in PAGES for b in broken_links(page)] == []


def test_readme_is_a_front_page() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 200
    # it maps docs/: every page there is linked from it
    text = "\n".join(lines)
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in text, f"the README does not link docs/{page.name}"


def test_a_broken_link_is_named(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("# Top\n\n[a](#top) [b](#nope) [c](gone.md) [d](https://x.org/#y)\n"
                    "```\n[e](not-checked.md)\n```\n")
    assert [b.split(": ", 1)[1] for b in broken_links(page, tmp_path)] == [
        "#nope: no such heading", "gone.md: no such file"]
