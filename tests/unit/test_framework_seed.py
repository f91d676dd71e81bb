"""The framework seeds are generated from the reference text, completely and reproducibly."""

from __future__ import annotations

import csv
import re

import pytest

from probation_evidence.reference import framework

RATINGS = ["Outstanding", "Good", "Requires improvement", "Inadequate"]


@pytest.fixture(scope="module")
def parsed():
    return framework.parse_framework(framework.FRAMEWORK_TEXT.read_text(encoding="utf-8"))


def _body_paragraphs() -> list[str]:
    """Paragraphs of the text after the front matter, minus the standard and rating headings."""
    paragraphs = framework.split_paragraphs(framework.FRAMEWORK_TEXT.read_text(encoding="utf-8"))
    first = paragraphs.index("1.1 Leadership")
    headings = {f"{sid} {name}" for sid, name in framework.STANDARD_NAMES.items()} | set(RATINGS)
    return [p for p in paragraphs[first:] if p not in headings]


def test_committed_seeds_equal_freshly_generated(tmp_path):
    framework.write_seeds(tmp_path)
    for name in framework.render_seeds():
        committed = framework.DEFAULT_SEED_DIR / name
        assert committed.is_file(), f"{name} missing: run python -m probation_evidence.reference.framework"
        assert committed.read_bytes() == (tmp_path / name).read_bytes(), (
            f"{name} is stale: run python -m probation_evidence.reference.framework"
        )
    assert framework.main(["--check"]) == 0


def test_check_fails_on_stale_seed(tmp_path, capsys):
    framework.write_seeds(tmp_path)
    (tmp_path / "framework_standards.csv").write_text("standard_id\n", encoding="utf-8")
    assert framework.main(["--check", "--seed-dir", str(tmp_path)]) == 1
    assert "framework_standards.csv" in capsys.readouterr().err


def test_seeds_are_lf_and_deterministic():
    first, second = framework.render_seeds(), framework.render_seeds()
    assert first == second
    for content in first.values():
        assert "\r" not in content
        assert content.endswith("\n")


def test_every_paragraph_appears_exactly_once(parsed):
    standards, characteristics = parsed
    texts = [s.standard_statement for s in standards] + [c.characteristic_text for c in characteristics]
    normalised = [framework.normalise_whitespace(t) for t in texts]
    body = _body_paragraphs()
    assert len(body) == len(normalised)
    for paragraph in body:
        assert sum(paragraph in text for text in normalised) == 1, paragraph[:80]


def test_page_break_splits_are_joined(parsed):
    _, characteristics = parsed
    by_id = {c.characteristic_id: c.characteristic_text for c in characteristics}
    assert "leaders have sought to make have been inadequate. Consequently" in by_id["1.1-inadequate-03"]
    assert "to work with a diverse range of service users" in by_id["1.2-outstanding-05"]


def test_four_standards_by_four_ratings(parsed):
    standards, characteristics = parsed
    assert [(s.standard_id, s.standard_name) for s in standards] == list(framework.STANDARD_NAMES.items())
    for standard_id in framework.STANDARD_NAMES:
        ratings = [c.rating for c in characteristics if c.standard_id == standard_id]
        assert list(dict.fromkeys(ratings)) == RATINGS
        for rating in RATINGS:
            numbers = [
                c.paragraph_number for c in characteristics if c.standard_id == standard_id and c.rating == rating
            ]
            assert numbers == list(range(1, len(numbers) + 1))
            assert len(numbers) >= 2


def test_ids_are_unique_and_well_formed(parsed):
    _, characteristics = parsed
    ids = [c.characteristic_id for c in characteristics]
    assert len(ids) == len(set(ids))
    pattern = re.compile(r"^1\.[1-4]-(outstanding|good|requires-improvement|inadequate)-\d{2}$")
    assert all(pattern.match(i) for i in ids)
    ranks = {c.rating: c.rating_rank for c in characteristics}
    assert ranks == {"Outstanding": 3, "Good": 2, "Requires improvement": 1, "Inadequate": 0}


@pytest.mark.parametrize(
    ("characteristic_id", "starts_with"),
    [
        ("1.2-inadequate-02", "There are substantial or frequent staff shortages"),
        ("1.2-good-02", "Staffing levels are planned and reviewed"),
        ("1.1-outstanding-01", "The leadership of the organisation fully supports"),
        ("1.3-inadequate-05", "Courts are not aware of the services"),
        ("1.4-requires-improvement-01", "Information and facilities insufficiently support"),
        ("1.4-inadequate-05", "Performance indicators are not reported to an acceptable standard"),
    ],
)
def test_known_ids_hold_known_text(parsed, characteristic_id, starts_with):
    _, characteristics = parsed
    by_id = {c.characteristic_id: c.characteristic_text for c in characteristics}
    assert by_id[characteristic_id].startswith(starts_with)


def test_headline_is_paragraph_one(parsed):
    _, characteristics = parsed
    headlines = [c for c in characteristics if c.paragraph_number == 1]
    assert len(headlines) == 16
    assert all("for all service users." in c.characteristic_text for c in headlines)


def test_no_text_ends_mid_sentence(parsed):
    standards, characteristics = parsed
    for text in [s.standard_statement for s in standards] + [c.characteristic_text for c in characteristics]:
        assert text.endswith((".", "!", "?")), text[-60:]
        assert "  " not in text and "\n" not in text


def test_seed_csv_round_trips(parsed):
    _, characteristics = parsed
    with (framework.DEFAULT_SEED_DIR / "framework_characteristics.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["characteristic_id"] for r in rows] == [c.characteristic_id for c in characteristics]
    assert [r["characteristic_text"] for r in rows] == [c.characteristic_text for c in characteristics]
    with (framework.DEFAULT_SEED_DIR / "ref_regions.csv").open(encoding="utf-8", newline="") as f:
        regions = list(csv.DictReader(f))
    assert len(regions) == 12
    assert {"region_code": "N07", "region_name": "London"} in regions


def test_parse_errors_are_clear():
    with pytest.raises(framework.FrameworkParseError):
        framework.parse_framework("Contents\n\nnothing here\n")
