"""The HTML reports come from templates that escape every value."""
from __future__ import annotations

from pathlib import Path

from zsbed.core import pages
from zsbed.coverage import coverage


def test_a_value_is_escaped(tmp_path: Path) -> None:
    t = tmp_path / "t.html.j2"
    t.write_text("<p title='{{ x }}'>{{ x }}</p>\n")
    out = pages.render(t, x="<b>'&'</b>")
    assert out == "<p title='&lt;b&gt;&#39;&amp;&#39;&lt;/b&gt;'>&lt;b&gt;&#39;&amp;&#39;&lt;/b&gt;</p>\n"


def test_the_coverage_page_escapes_site_text_and_marks_what_was_never_hit() -> None:
    site = coverage.load_sites()[0]
    r = coverage.SiteResult(site, line=7)
    r.first = {"fallback": "fault.<x>"}
    percent = {"line_percent": 50.0, "branch_percent": 25.0}
    page = coverage.index_html([r], {"fallback": {"mm/<z>.c": percent}})
    assert "fault.&lt;x&gt;" in page and "mm/&lt;z&gt;.c" in page and "<x>" not in page
    assert page.count("class='bad'") == len(site.modes)         # no hits at all
    assert "50.0%" in page and "25.0%" in page
