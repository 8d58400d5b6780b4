"""Generated mutants: small edits to every line a series adds.

Where ``fault/mutants/`` holds bugs written by hand, this module makes them
mechanically, from the series under test, so that a mutation score measures
the checks against the bugs a patch author might make rather than the ones
zsbed thought of. It only generates and selects; building, booting and the
verdict are the runner's.

Given a file before and after the series, the added lines are those a
line diff of the two marks as inserted (never zsbed's own patches: the
caller passes the tree with the series only). On each added line of C code
(not a comment or a preprocessor line; string literals are left alone) the
operators are:

- ``delete``: a whole statement (a call, an assignment, ``return``,
  ``break``), and ``delete-pair``: a lock with its matching unlock further
  down (same function, same lock expression);
- ``relop``: one relational operator flipped (``>=`` to ``>``, ``==`` to
  ``!=``, ...);
- ``const``: an integer literal plus or minus one, a ``/ 2`` dropped, a
  shift count changed by one;
- ``negate``: the condition of an ``if`` or ``while`` negated;
- ``swap``: two adjacent added statements swapped (ordering bugs);
- ``lock``: ``spin_trylock(l)`` made ``({ spin_lock(l); 1; })``, and
  ``spin_lock`` a trylock whose result is ignored;
- ``once``: a ``READ_ONCE``/``WRITE_ONCE`` dropped. These are reported in
  their own category ("needs a data-race detector"): on UML nothing can
  see them.

Every mutant has a stable id (``file:line:operator:n``) and renders as a
patch that applies with ``patch --fuzz=0`` on the patched file.
``select`` draws a seeded sample; shards split the ids with ``shard.Shard``.
"""
from __future__ import annotations

import difflib
import random
import re
from dataclasses import dataclass

from zsbed.core import cfunc

OPERATORS = ("delete", "delete-pair", "relop", "const", "negate", "swap", "lock", "once")
DATA_RACE = "once"          # the operator whose survivors need KCSAN, not a plain survivor

RELOPS = {">=": ">", ">": ">=", "<=": "<", "<": "<=", "==": "!=", "!=": "=="}
# a relational operator, not part of ->, <<, >>, <<=, >>=
RELOP_RE = re.compile(r"(?<![<>=!\-])(>=|<=|==|!=|>|<)(?![<>=])")
INT_RE = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
DIV2_RE = re.compile(r"\s*/\s*2(?![\w.])")
SHIFT_RE = re.compile(r"(<<|>>)\s*(\d+)(?![\w.])")
COND_RE = re.compile(r"^(\s*(?:\}\s*else\s+)?(?:if|while)\s*)\((.*)\)(\s*\{?\s*)$")
STATEMENT_RE = re.compile(r"^\s*(?:return\b[^;]*|break|continue|[\w.>\-\[\]()&*, ]+\([^;]*\)|"
                          r"[\w.>\-\[\]*]+\s*(?:[-+|&]?=|\+\+|--)[^;]*);\s*$")
LOCK_RE = re.compile(r"^\s*(spin_lock|spin_lock_bh|spin_lock_irq|read_lock|write_lock|"
                     r"mutex_lock)\((.*)\);\s*$")
UNLOCK = {"spin_lock": "spin_unlock", "spin_lock_bh": "spin_unlock_bh",
          "spin_lock_irq": "spin_unlock_irq", "read_lock": "read_unlock",
          "write_lock": "write_unlock", "mutex_lock": "mutex_unlock"}
STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')


@dataclass(frozen=True)
class Mutant:
    """One generated mutant: ``edits`` replace whole lines of the patched file."""

    path: str                           # the file, relative to the tree
    line: int                           # 1-based, in the patched file
    op: str
    n: int                              # which mutant of this operator on this line
    edits: tuple[tuple[int, str], ...]  # (line, new text), sorted
    original: str                       # the line as the series wrote it

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}:{self.op}:{self.n}"

    @property
    def data_race(self) -> bool:
        return self.op == DATA_RACE

    def patch(self, after: list[str], context: int = 3) -> str:
        """A unified diff of the mutated file against ``after``."""
        mutated = list(after)
        for line, text in self.edits:
            mutated[line - 1] = text
        diff = difflib.unified_diff([f"{x}\n" for x in after], [f"{x}\n" for x in mutated],
                                    f"a/{self.path}", f"b/{self.path}", n=context)
        return "".join(diff)


def added_lines(before: list[str], after: list[str]) -> list[int]:
    """1-based numbers of the lines of ``after`` that are not in ``before``."""
    out: list[int] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag in ("insert", "replace"):
            out += range(j1 + 1, j2 + 1)
    return out


def series_lines(pristine: list[str], series: list[str], full: list[str]) -> list[int]:
    """The lines of ``full`` (the series plus zsbed's instrumentation) that
    the series added: added from ``pristine`` to ``series`` and carried into
    ``full`` unchanged. The instrumentation's own lines are never among them."""
    added = set(added_lines(pristine, series))
    out: list[int] = []
    matcher = difflib.SequenceMatcher(None, series, full, autojunk=False)
    for block in matcher.get_matching_blocks():
        out += [block.b + k + 1 for k in range(block.size) if block.a + k + 1 in added]
    return sorted(out)


def _code(line: str) -> str:
    """The line with string literals and /* */ comments blanked (same
    length, so positions stay the line's), a // or an unclosed /* comment
    cut off."""
    masked = STRING_RE.sub(lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', line)
    masked = re.sub(r"/\*.*?\*/", lambda m: " " * len(m.group(0)), masked)
    return masked.split("//", 1)[0].split("/*", 1)[0]


def _is_code(line: str, in_comment: bool) -> bool:
    """Not blank, not in or opening a comment, not a preprocessor line
    (a line inside a comment, `` * text``, has ``in_comment`` set)."""
    s = line.strip()
    return bool(s) and not in_comment and not s.startswith(("/*", "#", "//"))


def _comment_state(lines: list[str]) -> list[bool]:
    """Per line: does it start inside a /* */ comment?"""
    state, inside = [], False
    for line in lines:
        state.append(inside)
        code = STRING_RE.sub('""', line)
        while True:
            if inside:
                end = code.find("*/")
                if end < 0:
                    break
                inside, code = False, code[end + 2:]
            else:
                start = code.find("/*")
                if start < 0:
                    break
                inside, code = True, code[start + 2:]
    return state


def _sub_at(line: str, m: re.Match[str], new: str) -> str:
    """Replace the match ``m`` (found in the masked code, whose positions are
    the line's) in ``line``."""
    return line[:m.start()] + new + line[m.end():]


def _preprocessor(after: list[str]) -> list[bool]:
    """Per line: is it a preprocessor line, or a continuation of one?"""
    out, going = [], False
    for line in after:
        this = going or line.lstrip().startswith("#")
        out.append(this)
        going = this and line.rstrip().endswith("\\")
    return out


def _in_function(after: list[str]) -> list[bool]:
    """Per line: does it start inside a function body (not at file scope, nor
    in a struct, enum or initializer)? Declarations are not statements: a
    prototype swapped or deleted is no bug a check could catch. Only the
    first branch of an ``#if`` counts, as the compiler sees one."""
    body = {n for f in cfunc.functions(after) for n in range(f.brace + 1, f.last + 1)}
    out: list[bool] = []
    branches: list[bool] = []    # per open #if: are we past its first branch?
    for line, is_pre in zip(after, _preprocessor(after)):
        out.append(not any(branches) and len(out) + 1 in body)
        if not is_pre:
            continue
        word = re.match(r"\s*#\s*(\w+)", line)
        directive = word.group(1) if word else ""
        if directive.startswith("if"):
            branches.append(False)
        elif directive in ("else", "elif") and branches:
            branches[-1] = True
        elif directive == "endif" and branches:
            branches.pop()
    return out


LABEL_RE = re.compile(r"\s*(case\b[^:]*|default|\w+)\s*:")
CONTROL_RE = re.compile(r"(\}\s*)?(else\s*)?((if|for|while|switch|\w*for_each\w*)\s*\(.*\))?(do)?")


def _starts_statement(after: list[str], n: int, comments: list[bool]) -> bool:
    """Does line ``n`` (1-based) begin a statement, rather than continue the
    one above (``BIT(A) |`` then ``BIT(B));``)? The code back to the last
    ``;``, ``{``, ``}`` or label must be empty or a control head without
    a brace (``if (a &&`` / ``b)``, ``else``, ``list_for_each(...)``)."""
    text: list[str] = []
    for i in range(n - 2, -1, -1):
        if not _is_code(after[i], comments[i]):
            continue
        prev = _code(after[i]).rstrip()
        if not prev.strip():
            continue
        if prev.endswith((";", "{", "}")) or LABEL_RE.fullmatch(prev):
            break
        text.insert(0, prev.strip())
    head = " ".join(text)
    if not head:
        return True
    return head.count("(") == head.count(")") and CONTROL_RE.fullmatch(head) is not None


def _line_ops(line: str, statement: bool = True) -> list[tuple[str, str]]:
    """(operator, new line) for every one-line mutant of ``line``
    (``statement``: it begins a statement, so deleting it may compile)."""
    code = _code(line)
    out: list[tuple[str, str]] = []
    if statement and STATEMENT_RE.match(code) and not LOCK_RE.match(code):
        out.append(("delete", ""))
    for m in RELOP_RE.finditer(code):
        out.append(("relop", _sub_at(line, m, RELOPS[m.group(1)])))
    for m in SHIFT_RE.finditer(code):
        k = int(m.group(2))
        for nk in (k + 1, k - 1):
            if nk >= 0:
                out.append(("const", _sub_at(line, m, f"{m.group(1)} {nk}")))
    shifted = {m.start(2) for m in SHIFT_RE.finditer(code)}
    for m in DIV2_RE.finditer(code):
        out.append(("const", _sub_at(line, m, "")))
    div2 = {m.end() - 1 for m in DIV2_RE.finditer(code)}
    in_sizeof = _sizeof_spans(code)
    for m in INT_RE.finditer(code):
        if m.start() in shifted or m.start() in div2 or any(a <= m.start() < b for a, b in in_sizeof):
            continue
        if len(m.group(1)) > 1 and m.group(1).startswith("0"):
            continue                # an octal literal (a file mode): no off-by-one
        k = int(m.group(1))
        for nk in (k + 1, k - 1):
            if nk >= 0:
                out.append(("const", _sub_at(line, m, str(nk))))
    cond = COND_RE.match(code)
    if cond and code.count("(") == code.count(")"):
        head, inner, tail = cond.groups()
        out.append(("negate", f"{head}(!({line[len(head) + 1:len(head) + 1 + len(inner)]})){tail}"))
    for m in re.finditer(r"\bspin_trylock\(", code):
        close = _closing_paren(code, m.end())
        if close is not None:
            arg = line[m.end():close]
            out.append(("lock", line[:m.start()] + f"({{ spin_lock({arg}); 1; }})"
                        + line[close + 1:]))
    lock = LOCK_RE.match(code)
    if lock and lock.group(1) == "spin_lock":
        out.append(("lock", line.replace("spin_lock(", "(void)spin_trylock(", 1)))
    for m in re.finditer(r"\bREAD_ONCE\(", code):
        out.append(("once", _sub_at(line, m, "(")))
    for m in re.finditer(r"\bWRITE_ONCE\(", code):
        rest = line[m.end():]
        args = _split_args(rest)
        if args:
            a, b, tail = args
            out.append(("once", line[:m.start()] + f"(({a}) = ({b}))" + tail))
    return out


def _sizeof_spans(code: str) -> list[tuple[int, int]]:
    """The argument spans of ``sizeof(...)``: a constant there (``batch[0]``)
    changes no size."""
    out = []
    for m in re.finditer(r"\bsizeof\s*\(", code):
        close = _closing_paren(code, m.end())
        if close is not None:
            out.append((m.end(), close))
    return out


def _closing_paren(code: str, start: int) -> int | None:
    """Index of the ')' that closes the call whose arguments begin at ``start``."""
    depth = 0
    for i in range(start, len(code)):
        if code[i] == "(":
            depth += 1
        elif code[i] == ")":
            if depth == 0:
                return i
            depth -= 1
    return None


def _split_args(rest: str) -> tuple[str, str, str] | None:
    """``a, b) tail`` -> (a, b, tail) at depth 0, or None."""
    depth, comma = 0, -1
    for i, c in enumerate(rest):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return (rest[:comma].strip(), rest[comma + 1:i].strip(),
                        rest[i + 1:]) if comma >= 0 else None
            depth -= 1
        elif c == "," and depth == 0:
            comma = i
    return None


def generate(path: str, before: list[str], after: list[str],
             lines: list[int] | None = None) -> list[Mutant]:
    """Every mutant of the lines ``after`` adds to ``before`` (lines without
    their newline), or of ``lines`` of ``after`` (``series_lines``: the
    series' lines in a tree that also carries zsbed's patches). Never
    touches a line the series did not add."""
    added = added_lines(before, after) if lines is None else sorted(lines)
    is_added = set(added)
    comments = _comment_state(after)
    pre = _preprocessor(after)
    code_lines = [n for n in added if _is_code(after[n - 1], comments[n - 1]) and not pre[n - 1]]
    out: list[Mutant] = []

    def add(line: int, op: str, edits: list[tuple[int, str]]) -> None:
        n = sum(1 for m in out if m.line == line and m.op == op)
        out.append(Mutant(path, line, op, n, tuple(sorted(edits)), after[line - 1]))

    inside = _in_function(after)
    starts = {n: inside[n - 1] and _starts_statement(after, n, comments) for n in code_lines}
    for n in code_lines:
        line = after[n - 1]
        for op, new in _line_ops(line, starts[n]):
            add(n, op, [(n, new)])
        lock = LOCK_RE.match(_code(line))
        if lock:
            want = f"{UNLOCK[lock.group(1)]}({lock.group(2)});"
            close = cfunc.end_of(after, n - 1)
            for j in range(n, (len(after) - 1 if close is None else close) + 1):
                if after[j - 1].strip() == want:
                    if j in is_added:       # never blank a line the series did not add
                        add(n, "delete-pair", [(n, ""), (j, "")])
                    break
    for n in code_lines:
        nxt = n + 1
        if nxt in is_added and nxt in code_lines:
            a, b = after[n - 1], after[nxt - 1]
            if (starts[n] and starts[nxt] and STATEMENT_RE.match(_code(a))
                    and STATEMENT_RE.match(_code(b)) and a.strip() != b.strip()):
                indent_a = a[:len(a) - len(a.lstrip())]
                indent_b = b[:len(b) - len(b.lstrip())]
                add(n, "swap", [(n, indent_a + b.strip()), (nxt, indent_b + a.strip())])
    return out


def select(mutants: list[Mutant], sample: int | None = None, seed: int = 0) -> list[Mutant]:
    """A reproducible sample of ``sample`` by ``seed`` (all without one), in
    id order. Shards split the ids with ``shard.Shard``, as for every command."""
    mine = list(mutants)
    if sample is not None and sample < len(mine):
        mine = random.Random(seed).sample(sorted(mine, key=lambda m: m.id), sample)
    return sorted(mine, key=lambda m: m.id)
