"""The patch stage: series parsing, failure messages, minimal rewrites."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from zsbed.kernel import patch as zpatch
from zsbed.core.errors import ZsbedError

ORIG = "one\ntwo\nthree\nfour\nfive\n"
GOOD = """--- a/dir/file.c
+++ b/dir/file.c
@@ -1,5 +1,5 @@
 one
 two
-three
+THREE
 four
 five
"""
NEW_FILE = """diff --git a/new.c b/new.c
new file mode 100644
--- /dev/null
+++ b/new.c
@@ -0,0 +1 @@
+hello
"""
BAD = """--- a/dir/file.c
+++ b/dir/file.c
@@ -1,5 +1,5 @@
 one
 two
-not there
+x
 four
 five
"""


def _tree(tmp: Path) -> Path:
    (tmp / "pristine/dir").mkdir(parents=True)
    (tmp / "pristine/dir/file.c").write_text(ORIG)
    (tmp / "pristine/other.c").write_text("other\n")
    return tmp / "pristine"


def test_series_groups_and_strip(tmp_path: Path) -> None:
    (tmp_path / "a.patch").write_text(GOOD)
    (tmp_path / "b.patch").write_text(NEW_FILE)
    (tmp_path / "series").write_text(
        "# the series\na.patch\n\n# --- zsbed instrumentation\nb.patch -p1  # ours\n")
    series, ours = zpatch.parse_series(tmp_path / "series")
    assert [Path(p.name).name for p in series] == ["a.patch"]
    assert [(Path(p.name).name, p.strip) for p in ours] == [("b.patch", 1)]


def test_series_errors_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "series").write_text("missing.patch\n")
    with pytest.raises(ZsbedError, match=r"series:1: missing.patch: No such file"):
        zpatch.parse_series(tmp_path / "series")
    (tmp_path / "a.patch").write_text(GOOD)
    (tmp_path / "series").write_text("a.patch -R\n")
    with pytest.raises(ZsbedError, match=r"series:1: unknown option '-R'"):
        zpatch.parse_series(tmp_path / "series")


def test_touched_files() -> None:
    assert zpatch.touched_files(zpatch.Patch("g", GOOD)) == {"dir/file.c"}
    assert zpatch.touched_files(zpatch.Patch("n", NEW_FILE)) == {"new.c"}


def test_failing_hunk_is_one_line_naming_patch_file_and_hunk(tmp_path: Path) -> None:
    pristine = _tree(tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(ZsbedError) as err:
        zpatch.apply_to_scratch(pristine, [zpatch.Patch("patches/0002-bad.patch", BAD)], scratch)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg == "patches/0002-bad.patch: does not apply: dir/file.c: hunk #1 FAILED at line 1"


def test_context_mismatch_is_not_fuzzed_in(tmp_path: Path) -> None:
    # patch(1) would apply this with fuzz 1 by default; git am would not
    fuzzy = GOOD.replace(" one\n", " ONE\n")
    pristine = _tree(tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(ZsbedError, match="fuzzy.patch: does not apply: dir/file.c: hunk #1"):
        zpatch.apply_to_scratch(pristine, [zpatch.Patch("fuzzy.patch", fuzzy)], scratch)


def test_sync_rewrites_only_changed_files_and_spares_pristine(tmp_path: Path) -> None:
    pristine = _tree(tmp_path)
    src = tmp_path / "src"
    os.system(f"cp -al {pristine} {src}")
    patches = [zpatch.Patch("g", GOOD), zpatch.Patch("n", NEW_FILE)]
    scratch = tmp_path / "s1"
    scratch.mkdir()
    files = zpatch.apply_to_scratch(pristine, patches, scratch)
    changed = zpatch.sync_tree(pristine, src, scratch, files, set())
    assert changed == ["dir/file.c", "new.c"]
    assert (src / "dir/file.c").read_text() == ORIG.replace("three", "THREE")
    assert (pristine / "dir/file.c").read_text() == ORIG      # not written through the link
    other_inode = (src / "other.c").stat().st_ino
    # Dropping the first patch restores its file and leaves the others alone.
    scratch2 = tmp_path / "s2"
    scratch2.mkdir()
    files2 = zpatch.apply_to_scratch(pristine, patches[1:], scratch2)
    changed = zpatch.sync_tree(pristine, src, scratch2, files2, files)
    assert changed == ["dir/file.c"]
    assert (src / "dir/file.c").read_text() == ORIG
    assert (src / "other.c").stat().st_ino == other_inode


def test_mbox_split(tmp_path: Path) -> None:
    mbox = tmp_path / "s.mbox"
    mbox.write_text("From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 1/2] a\n\n---\n" + GOOD
                    + "From 5678 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 2/2] b\n\n---\n" + NEW_FILE)
    patches = zpatch.split_mbox(mbox)
    assert [p.name.split("(")[1] for p in patches] == ["[PATCH 1/2] a)", "[PATCH 2/2] b)"]
    empty = tmp_path / "empty.mbox"
    empty.write_text("From x Mon\nSubject: cover\n\nno diff here\n")
    with pytest.raises(ZsbedError, match="no patches found"):
        zpatch.split_mbox(empty)
