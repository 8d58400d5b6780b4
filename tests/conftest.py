"""Fixtures for the harness's unit tests."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DATA = Path(__file__).resolve().parent / "data"

# The fuzz tests (test_fuzz.py): few examples, so make unit stays fast;
# ZSBED_FUZZ_EXAMPLES=N for a longer run. No example database; hypothesis's
# own cache (a Unicode table) goes under work/, not into the checkout's top.
set_hypothesis_home_dir(str(REPO / "work" / "hypothesis"))
settings.register_profile("zsbed", max_examples=int(os.environ.get("ZSBED_FUZZ_EXAMPLES", "40")),
                          deadline=None, database=None, print_blob=True)
settings.load_profile("zsbed")


@pytest.fixture(scope="session")
def ktree() -> Path:
    """A Linux tree whose tools/testing/kunit modules the harness imports.

    ``make unit`` fetches it and passes it in ZSBED_KTREE.
    """
    tree = Path(os.environ.get("ZSBED_KTREE", REPO / "work" / "linux-7.3"))
    if not (tree / "tools/testing/kunit/kunit_parser.py").is_file():
        pytest.fail(f"{tree}: no kernel tree; run the unit tests with 'make unit'")
    return tree


@pytest.fixture
def data() -> Path:
    return DATA
