"""The bad-input, reliability and operations catalogues are promises: every row names the test that proves it, and the
count each page states is the number of rows it has. A renamed or deleted test, or a row added without
updating the count, fails here rather than leaving the docs quietly wrong."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
CATALOGUES = {"bad-input.md": "bad inputs", "reliability.md": "fault kinds", "operations.md": "operations"}
TEST_REFERENCE = re.compile(r"`((?:[\w./-]+\.py)?)::(\w+)`")
COUNT = re.compile(r"\*\*(\d+) ([a-z -]+)\*\*")


def _rows(text: str) -> list[list[str]]:
    """The body rows of the page's catalogue tables (those whose last column is `test`); section rows (a
    bold first cell and nothing else) are skipped."""
    rows, header, in_catalogue = [], None, False
    for line in [*text.splitlines(), ""]:
        if not line.startswith("|"):
            header, in_catalogue = None, False
            continue
        if set(line) <= set("|-: "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None:
            header, in_catalogue = cells, cells[-1] == "test"
            continue
        if in_catalogue and not (cells[0].startswith("**") and not any(cells[1:])):
            rows.append(cells)
    return rows


@cache
def _test_functions(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef))


def _resolve(file_part: str, previous: Path | None) -> Path | None:
    """`tests/x/test_y.py`, a bare `test_y.py` (unique basename under tests/), or nothing (the row's last file)."""
    if not file_part:
        return previous
    if "/" in file_part:
        return ROOT / file_part
    found = sorted(TESTS.rglob(file_part))
    return found[0] if len(found) == 1 else None


@pytest.mark.parametrize("page", sorted(CATALOGUES))
def test_every_row_names_a_test_that_exists(page):
    rows = _rows((ROOT / "docs" / page).read_text(encoding="utf-8"))
    assert rows, f"docs/{page} has no catalogue rows"
    previous_file, previous_refs, problems = None, [], []
    for cells in rows:
        test_cell = cells[-1]
        refs = TEST_REFERENCE.findall(test_cell)
        if not refs and test_cell.lower().startswith("same"):
            refs = previous_refs
        if not refs:
            problems.append(f"row {cells[0]!r} names no test")
            continue
        for file_part, name in refs:
            path = _resolve(file_part, previous_file)
            if path is None or not path.exists():
                problems.append(f"row {cells[0]!r}: no test file {file_part or '(previous row’s)'}")
                continue
            if name not in _test_functions(path):
                problems.append(f"row {cells[0]!r}: {path.relative_to(ROOT)} has no test {name}")
            previous_file = path
        previous_refs = refs
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("page", "noun"), sorted(CATALOGUES.items()))
def test_the_stated_count_is_the_number_of_rows(page, noun):
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    stated = [int(number) for number, words in COUNT.findall(text) if words.strip() == noun]
    assert stated, f"docs/{page} must state its count as **N {noun}**"
    assert stated[0] == len(_rows(text)), f"docs/{page} says {stated[0]} {noun} but lists {len(_rows(text))}"
