"""docs/reference.md is generated from the Makefile and the option parser:
it must be current, and it must name every target and every option."""
from __future__ import annotations

import argparse
import re

from zsbed.cli import cli, reference
from zsbed.core import options


def test_reference_is_current() -> None:
    # after a change to the Makefile's help or an option: make reference
    assert reference.REFERENCE.read_text() == reference.current(cli.parser())


def test_every_target_and_option_is_in_the_reference() -> None:
    text = reference.REFERENCE.read_text()
    makefile = reference.MAKEFILE.read_text()
    targets = reference.phony_targets(makefile)
    assert {"uml-test", "check", "mutation", "reference"} <= set(targets)
    helps = reference.help_lines(makefile)
    for target in targets:
        assert f"| `make {target}` |" in text
        # every target but help itself explains itself in make help
        assert target == "help" or helps.get(target), f"make help says nothing of {target}"
    defined = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    assert defined <= set(targets) | {"ZSBED"}, defined - set(targets)
    sub = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        assert f"### `{name}`" in text
        for action in p._actions:
            if action.option_strings and not isinstance(action, argparse._HelpAction):
                flag = max(action.option_strings, key=len)
                assert f"| `{options.make_name(flag)}=` | `{flag}` |" in text


def test_help_lines_join_continuations() -> None:
    makefile = ('\t@echo "  make a   first"\n\t@echo "                  second"\n'
                '\t@echo\n\t@echo "  make b   one \\"q\\""\n')
    assert reference.help_lines(makefile) == {"a": "first second", "b": 'one "q"'}


def test_the_bad_input_table_is_current() -> None:
    # after a change to a bad-input message or case: make reference
    assert reference.BAD_INPUT.read_text() == reference.bad_input_page(reference.bad_input_rows())
