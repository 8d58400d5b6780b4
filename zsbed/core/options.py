"""What each command-line value must be, checked while the command line is read.

The Makefile turns its variables into options (``TIMEOUT=`` into
``--timeout``, ``N=`` into ``--n``, ``K=`` into pytest's ``-k``). A value
that breaks its rule ends in one line naming the Make variable and the
rule, exit 2, before anything is fetched or built: the converters below
raise ``ZsbedError`` (argparse lets it through), and every other argparse
complaint is folded into one line by ``Parser.error``.
"""
from __future__ import annotations

import argparse
import math
import re
from typing import Callable, NoReturn, Sequence

from zsbed.core.errors import ZsbedError

# Flags whose Make variable is not the option's name upper-cased.
MAKE_NAMES = {"--report-only": "REPORT"}


def make_name(option: str) -> str:
    """``--min-score`` -> ``MIN_SCORE``: the Make variable behind an option."""
    return MAKE_NAMES.get(option, option.lstrip("-").replace("-", "_").upper())


def count(var: str, low: int = 1, high: int | None = None) -> Callable[[str], int]:
    """A whole number from ``low`` (to ``high``)."""
    rule = f"must be a whole number from {low} to {high}" if high is not None \
        else f"must be a whole number, at least {low}"

    def convert(text: str) -> int:
        if not re.fullmatch(r"[+-]?\d+", text.strip()):
            raise ZsbedError(f"{var}={text}: {rule}")
        value = int(text)
        if value < low or (high is not None and value > high):
            raise ZsbedError(f"{var}={text}: {rule}")
        return value
    return convert


def _number(text: str) -> float:
    """``text`` as a float; NaN, which no rule accepts, when it is none."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def positive(var: str, unit: str = "") -> Callable[[str], float]:
    """A finite number above 0 (``unit`` names what it counts)."""
    def convert(text: str) -> float:
        value = _number(text)
        if not (math.isfinite(value) and value > 0):
            raise ZsbedError(f"{var}={text}: must be a number{unit} above 0")
        return value
    return convert


def percent(var: str) -> Callable[[str], float]:
    """A number from 0 to 100."""
    def convert(text: str) -> float:
        value = _number(text)
        if not 0 <= value <= 100:
            raise ZsbedError(f"{var}={text}: must be a percentage from 0 to 100")
        return value
    return convert


def keyword_expressions(pytest_args: Sequence[str]) -> list[str]:
    """The ``-k`` expressions among pytest's arguments (``K=`` passes one)."""
    found = []
    for i, word in enumerate(pytest_args):
        if word == "-k" and i + 1 < len(pytest_args):
            found.append(pytest_args[i + 1])
        elif word.startswith("-k") and len(word) > 2:
            found.append(word[2:])
    return found


def check_keyword(expression: str) -> None:
    """``K=``: pytest must be able to compile it. Before the first run pytest
    may not be installed yet: then pytest itself judges it after the boot."""
    try:
        from _pytest.mark.expression import Expression, ParseError
    except ImportError:
        return
    try:
        Expression.compile(expression)
    except ParseError as exc:
        raise ZsbedError(f"K={expression}: not a pytest -k expression ({exc})") from None


class Parser(argparse.ArgumentParser):
    """argparse, whose complaints are one line naming the Make variable."""

    def error(self, message: str) -> NoReturn:
        m = re.match(r"argument (-[-\w]+)(?:/-[-\w]+)*: (.*)", message)
        if m:
            message = f"{make_name(m.group(1))}: {m.group(2)}"
        command = self.prog.removeprefix("zsbed").strip()
        raise ZsbedError(f"{command}: {message}" if command else message)


def check(args: argparse.Namespace) -> None:
    """What no converter can see alone: the ``-k`` expressions."""
    for expression in keyword_expressions(getattr(args, "pytest_args", None) or []):
        check_keyword(expression)
