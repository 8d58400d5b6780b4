"""The entry-shape checks the TOML loaders share: one line each, starting
with the entry's label."""
from __future__ import annotations

from typing import Any

import pytest

from zsbed.core import tomlfile
from zsbed.core.errors import ZsbedError


@pytest.mark.parametrize("entry, message", [
    (3, r"^f.toml: #1: must be a table$"),
    ({"a": 1, "z": 2}, r"^f.toml: #1: unknown key 'z'$"),
    ({"b": 1}, r"^f.toml: #1: missing key 'a'$"),
])
def test_table_names_the_entry_and_what_is_wrong(entry: Any, message: str) -> None:
    with pytest.raises(ZsbedError, match=message):
        tomlfile.table("f.toml: #1", entry, {"a"}, {"b"})


def test_a_good_table_comes_back() -> None:
    assert tomlfile.table("x", {"a": 1}, {"a"}, {"b"}) == {"a": 1}


@pytest.mark.parametrize("value", [None, 1, "", "  "])
def test_text_wants_something_written(value: Any) -> None:
    with pytest.raises(ZsbedError, match=r"^x: 'k' must be a non-empty string$"):
        tomlfile.text("x", {"k": value}, "k")


@pytest.mark.parametrize("value", [None, "a", [], ["a", ""], ["a", 1]])
def test_texts_wants_a_list_of_strings(value: Any) -> None:
    with pytest.raises(ZsbedError, match=r"^x: 'k' must be a non-empty list of strings$"):
        tomlfile.texts("x", {"k": value}, "k")
    assert tomlfile.texts("x", {"k": ["a", "b"]}, "k") == ["a", "b"]
