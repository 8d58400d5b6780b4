"""What may be one word of a kernel's command line (UML's or a guest's):
checked when a fragment or a scenario names boot arguments."""
from __future__ import annotations


def cmdline_problem(word: str) -> str:
    """Why ``word`` cannot be one word of UML's command line, or ''."""
    if not word or any(c.isspace() for c in word) or '"' in word or "\0" in word:
        return "is not one word (no white space, quotes or NUL)"
    if word == "--":
        return "would end the kernel's arguments ('--' comes before zsbed-init's)"
    return ""
