"""Stage 2, patch: apply the series under test plus zsbed's own patches.

``patches/series`` is quilt format. The patches above the line that starts
with ``# --- zsbed`` are the series under test; the ones below it are zsbed's
instrumentation. ``SERIES=<dir|mbox>`` replaces the first group, and
``SERIES=none`` applies nothing at all.

The patched tree is a hard-linked copy of the pristine tree. The whole
series is applied to a scratch copy of just the files it touches; then only
files whose content changed are rewritten in the patched tree (a fresh
inode, so the pristine tree is never written through a hard link). Kbuild
therefore rebuilds exactly what an edit to a patch touched.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from zsbed.core import disk, paths, textfile
from zsbed.core.errors import ZsbedError
from zsbed.kernel.fetch import Tree
from zsbed.core.progress import say, step

ZSBED_MARKER = "# --- zsbed"
STATE = ".zsbed-applied.json"


@dataclass(frozen=True)
class Patch:
    """One patch to apply: where it came from, its text and strip level."""

    name: str          # what error messages call it (a path or "mbox#N")
    text: str
    strip: int = 1


def parse_series(series: Path) -> tuple[list[Patch], list[Patch]]:
    """Read a quilt series file; return (series under test, zsbed's own)."""
    lines = textfile.read_text(series, f"{paths.show(series)}: cannot read series file"
                               ).splitlines()
    groups: tuple[list[Patch], list[Patch]] = ([], [])
    group = 0
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if line.startswith(ZSBED_MARKER):
            group = 1
            continue
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        strip = 1
        for opt in words[1:]:
            if not re.fullmatch(r"-p\d", opt):
                raise ZsbedError(f"{paths.show(series)}:{lineno}: unknown option '{opt}' (only -pN)")
            strip = int(opt[2:])
        path = series.parent / words[0]
        text = textfile.read_text(path, f"{paths.show(series)}:{lineno}: {words[0]}")
        groups[group].append(Patch(name=paths.show(path), text=text, strip=strip))
    return groups


MBOX_FROM = re.compile(rb"(?m)^From \S+ .*\n")


def split_mbox(mbox: Path) -> list[Patch]:
    """Split an mbox (git format-patch / b4 output) into one patch a message.

    A message with a diff must be UTF-8 (a cover letter need not be).
    """
    try:
        data = mbox.read_bytes()
    except OSError as exc:
        raise ZsbedError(f"SERIES={mbox}: {exc.strerror}") from None
    pieces: list[tuple[int, bytes]] = []
    pos = 0
    for m in MBOX_FROM.finditer(data):
        pieces.append((pos, data[pos:m.start()]))
        pos = m.end()
    pieces.append((pos, data[pos:]))
    patches: list[Patch] = []
    for offset, raw in pieces:
        if re.search(rb"(?m)^(diff --git |--- )", raw):
            msg = textfile.decode(raw, str(mbox), data.count(b"\n", 0, offset) + 1)
            subject = re.search(r"(?m)^Subject: (.*)$", msg)
            label = subject.group(1).strip() if subject else f"message {len(patches) + 1}"
            patches.append(Patch(name=f"{mbox} ({label})", text=msg))
    if not patches:
        raise ZsbedError(f"SERIES={mbox}: no patches found in mbox")
    return patches


def select_patches(series: str | None) -> list[Patch]:
    """The ordered list of patches a run applies."""
    under_test, instrumentation = split_series(series)
    return under_test + instrumentation


def split_series(series: str | None) -> tuple[list[Patch], list[Patch]]:
    """(the series under test, zsbed's instrumentation) for ``SERIES=``.
    A series directory's own patches below its marker count as under test."""
    ours, instrumentation = parse_series(paths.PATCHES / "series")
    if series is None:
        return ours, instrumentation
    if series == "none":
        return [], []
    spec = Path(series).expanduser()
    if spec.is_dir():
        if not (spec / "series").is_file():
            raise ZsbedError(f"SERIES={series}: directory has no 'series' file")
        user, extra = parse_series(spec / "series")
        return user + extra, instrumentation
    if spec.is_file():
        return split_mbox(spec), instrumentation
    raise ZsbedError(f"SERIES={series}: no such file or directory")


def touched_files(patch: Patch) -> set[str]:
    """Paths (relative to the tree root) that a patch creates, edits or deletes."""
    files: set[str] = set()
    for m in re.finditer(r"(?m)^(?:---|\+\+\+) (\S+)", patch.text):
        name = m.group(1)
        if name == "/dev/null":
            continue
        parts = name.split("/")[patch.strip:]
        if parts:
            files.add("/".join(parts))
    for m in re.finditer(r"(?m)^(?:rename|copy) (?:from|to) (\S+)$", patch.text):
        files.add(m.group(1))
    return files


def _failure_line(patch: Patch, output: str) -> str:
    """Turn patch(1)'s output into one line naming the patch, file and hunk."""
    current = "?"
    for line in output.splitlines():
        m = re.match(r"patching file (\S+)", line)
        if m:
            current = m.group(1)
        m = re.match(r"Hunk #(\d+) FAILED at (\d+)", line)
        if m:
            return (f"{patch.name}: does not apply: {current}: hunk #{m.group(1)} "
                    f"FAILED at line {m.group(2)}")
        if "can't find file to patch" in line or "No file to patch" in line:
            return f"{patch.name}: does not apply: a file it patches does not exist"
        if "Reversed (or previously applied) patch" in line:
            return f"{patch.name}: does not apply: {current}: already applied (reversed patch?)"
    if "Only garbage was found" in output:
        return f"{patch.name}: not a patch (no diff found)"
    tail = output.strip().splitlines()[-1:] or ["patch failed"]
    return f"{patch.name}: does not apply: {tail[0]}"


def apply_to_scratch(pristine: Path, patches: list[Patch], scratch: Path) -> set[str]:
    """Apply every patch to copies of the files it touches; return those files."""
    files: set[str] = set()
    for p in patches:
        files |= touched_files(p)
    for rel in files:
        src = pristine / rel
        if src.is_file():
            dst = scratch / rel
            with disk.writing(dst):
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
    for p in patches:
        proc = subprocess.run(
            ["patch", f"-p{p.strip}", "--batch", "--forward", "--fuzz=0",
             "--no-backup-if-mismatch",
             "--reject-file=-", "-d", str(scratch)],
            input=p.text, capture_output=True, text=True)
        if proc.returncode != 0:
            disk.check_full(proc.stdout + proc.stderr, scratch)
            raise ZsbedError(_failure_line(p, proc.stdout + proc.stderr))
    return files


def _same(a: Path, b: Path) -> bool:
    if a.is_file() != b.is_file():
        return False
    if not a.is_file():
        return True
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()


def sync_tree(pristine: Path, src: Path, scratch: Path, new_files: set[str],
              old_files: set[str]) -> list[str]:
    """Make ``src`` equal pristine + series, rewriting only changed files."""
    changed = []
    for rel in sorted(new_files | old_files):
        want = scratch / rel if rel in new_files else pristine / rel
        have = src / rel
        if _same(want, have):
            continue
        if have.exists() or have.is_symlink():
            have.unlink()               # never write through a hard link
        if want.is_file():
            have.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(want, have)
            have.chmod(want.stat().st_mode & 0o777)
        changed.append(rel)
    return changed


def series_digest(patches: list[Patch]) -> str:
    """Content hash of an ordered patch list (and of how it is applied)."""
    h = hashlib.sha256(b"patch --fuzz=0\0")
    for p in patches:
        h.update(f"{p.strip}\0{len(p.text)}\0".encode())
        h.update(p.text.encode())
    return h.hexdigest()


def _snapshot_id(tree: Tree) -> str:
    """Identity of the base tree's content; changes when a user's tree changes."""
    if tree.managed:
        return tree.origin
    git = subprocess.run(["git", "-C", str(tree.path), "rev-parse", "HEAD"],
                         capture_output=True, text=True)
    if git.returncode != 0:
        return f"{tree.path}:{(tree.path / 'Makefile').stat().st_mtime_ns}"
    dirty = subprocess.run(["git", "-C", str(tree.path), "diff", "HEAD"],
                           capture_output=True)
    return f"{git.stdout.strip()}:{hashlib.sha256(dirty.stdout).hexdigest()}"


def patch(tree: Tree, series: str | None, extra: tuple[Patch, ...] = ()) -> tuple[Path, str]:
    """Stage entry point: return the source tree to build and its content id.

    ``extra`` patches go on top of everything (mutants use this): only the
    files they touch are rewritten, so switching costs a small rebuild.
    """
    patches = select_patches(series) + list(extra)
    if not patches and not tree.managed:
        say(f"[patch] SERIES=none: building {tree.path} as is (out of tree)")
        return tree.path, _snapshot_id(tree)
    return patch_tree(tree, patches)


def content_id(tree: Tree, series: str | None) -> str:
    """The id ``patch`` gives the tree with ``series`` and no extra patches."""
    return f"{_snapshot_id(tree)}:{series_digest(select_patches(series))}"


def touches_build(patches: tuple[Patch, ...]) -> bool:
    """Does any patch touch a Kconfig file or a Makefile (what configure reads)?"""
    return any(re.search(r"(^|/)(Kconfig[^/]*|Makefile|Kbuild)$", f)
               for p in patches for f in touched_files(p))


def copy_tree(pristine: Path, src: Path) -> None:
    """A fresh hard-linked copy of ``pristine`` at ``src``.

    The old copy's state file goes first: a copy (or a removal) cut short
    by Ctrl-C or a full disk has none, so the next run makes it again.
    """
    if src.is_symlink():
        src.unlink()                    # the link only, never what it points to
    (src / STATE).unlink(missing_ok=True)
    shutil.rmtree(src, ignore_errors=True)
    src.parent.mkdir(parents=True, exist_ok=True)
    # resolved: cp -a copies a symlink as a symlink, and a src that was a
    # link to the pristine tree would have the series written into it
    proc = subprocess.run(["cp", "-al", str(pristine.resolve()), str(src)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        try:
            disk.check_full(proc.stderr, src)
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            raise ZsbedError(f"patch: cp -al {paths.show(pristine)} {paths.show(src)} "
                             f"failed: {last}")
        finally:
            shutil.rmtree(src, ignore_errors=True)      # a partial copy only takes space


def patch_tree(tree: Tree, patches: list[Patch], name: str | None = None) -> tuple[Path, str]:
    """Apply ``patches`` to a hard-linked copy of ``tree`` (work/src/<name>)."""
    # A fixed name for zsbed's own tree keeps compiler paths the same in
    # every clone, so ccache (CCACHE_BASEDIR) hits across clones.
    key = "debian" if tree.managed else hashlib.sha256(str(tree.path).encode()).hexdigest()[:12]
    src = paths.WORK / "src" / (f"{name}-{key}" if name else key)
    state_file = src / STATE
    snapshot = _snapshot_id(tree)
    state = disk.read_state(state_file, "patch", ("snapshot", "digest", "files")) or {}
    with disk.writing(src):
        if state.get("snapshot") != snapshot:
            with step("patch", f"hard-linked copy of {paths.show(tree.path)}"):
                copy_tree(tree.path, src)
            state = {"snapshot": snapshot, "digest": "", "files": []}
        if src.resolve() == tree.path.resolve() or src.is_symlink():
            raise ZsbedError(f"patch: {paths.show(src)} is the tree {paths.show(tree.path)} "
                             f"itself (a symlink?); remove it, the tree must stay pristine")
        digest = series_digest(patches)
        if state.get("digest") == digest:
            say(f"[patch] {len(patches)} patches, unchanged since last run")
            return src, f"{snapshot}:{digest}"
        with step("patch", f"applying {len(patches)} patches"), \
                tempfile.TemporaryDirectory(prefix="zsbed-patch-") as tmp:
            new_files = apply_to_scratch(tree.path, patches, Path(tmp))
            old_files = set(state["files"])
            # While files are rewritten the tree is neither the old series nor
            # the new one: a run cut short here must sync every file again.
            disk.write_json(state_file, {**state, "digest": "",
                                         "files": sorted(old_files | new_files)})
            changed = sync_tree(tree.path, src, Path(tmp), new_files, old_files)
            say(f"[patch] files rewritten: {', '.join(changed) if changed else 'none'}")
        disk.write_json(state_file, {**state, "digest": digest, "files": sorted(new_files)})
    return src, f"{snapshot}:{digest}"
