"""Domain one rating characteristics: parse the framework text and write the dbt seeds.

The reference text (``reference/domain-one-rating-characteristics.txt``) was extracted from the
HMI Probation PDF (March 2018). Paragraphs are separated by blank lines, but a page break can split
a paragraph mid-sentence ("... have been" / "inadequate. ..."): a paragraph that does not end in
terminal punctuation is joined with the next one when that one starts with a lower-case letter.

Everything before the first standard heading (title, contents, introduction) is front matter and is
skipped. For each standard the first paragraph after its heading is the standard statement; under
each rating heading every paragraph gets a stable id ``<standard>-<rating slug>-<NN>``, paragraph 01
being the rating's headline sentence.

Usage::

    python -m probation_evidence.reference.framework            # regenerate the seeds
    python -m probation_evidence.reference.framework --check    # exit 1 if the committed seeds differ
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent
FRAMEWORK_TEXT = REFERENCE_DIR / "domain-one-rating-characteristics.txt"
REGIONS_CSV = REFERENCE_DIR / "regions.csv"
DEFAULT_SEED_DIR = REFERENCE_DIR.parents[2] / "dbt_project" / "seeds"

STANDARD_NAMES = {
    "1.1": "Leadership",
    "1.2": "Staff",
    "1.3": "Services",
    "1.4": "Information and facilities",
}
#: The four ratings, best first: the one list every stage uses (the seeds, the pack, the calibration).
RATINGS: tuple[str, ...] = ("Outstanding", "Good", "Requires improvement", "Inadequate")
RATING_RANKS = {rating: len(RATINGS) - 1 - position for position, rating in enumerate(RATINGS)}

STANDARD_HEADING = re.compile(r"^(1\.[1-4]) (.+)$")
TERMINAL_PUNCTUATION = (".", "!", "?", ":", ";")

STANDARDS_COLUMNS = ("standard_id", "standard_name", "standard_statement")
CHARACTERISTICS_COLUMNS = (
    "characteristic_id",
    "standard_id",
    "rating",
    "rating_rank",
    "paragraph_number",
    "characteristic_text",
)
REGIONS_COLUMNS = ("region_code", "region_name")


@dataclass(frozen=True)
class Standard:
    standard_id: str
    standard_name: str
    standard_statement: str


@dataclass(frozen=True)
class Characteristic:
    characteristic_id: str
    standard_id: str
    rating: str
    rating_rank: int
    paragraph_number: int
    characteristic_text: str


class FrameworkParseError(ValueError):
    """The framework text does not have the expected shape."""


def normalise_whitespace(text: str) -> str:
    return " ".join(text.split())


def rating_slug(rating: str) -> str:
    return rating.lower().replace(" ", "-")


def split_paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, whitespace-normalised, page-break splits re-joined."""
    raw = [normalise_whitespace(block) for block in re.split(r"\n\s*\n", text)]
    paragraphs: list[str] = []
    for block in raw:
        if not block:
            continue
        if paragraphs and not paragraphs[-1].endswith(TERMINAL_PUNCTUATION) and block[0].islower():
            paragraphs[-1] = f"{paragraphs[-1]} {block}"
        else:
            paragraphs.append(block)
    return paragraphs


def _standard_heading(paragraph: str) -> str | None:
    match = STANDARD_HEADING.match(paragraph)
    if match and STANDARD_NAMES.get(match.group(1)) == match.group(2):
        return match.group(1)
    return None


def parse_framework(text: str) -> tuple[list[Standard], list[Characteristic]]:
    """Parse the framework text into standards and rating characteristics, in document order."""
    paragraphs = split_paragraphs(text)
    starts = [i for i, p in enumerate(paragraphs) if _standard_heading(p)]
    if not starts:
        raise FrameworkParseError("no standard heading (e.g. '1.1 Leadership') found")

    standards: list[Standard] = []
    characteristics: list[Characteristic] = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(paragraphs)
        standard_id = _standard_heading(paragraphs[start]) or ""  # every start is a heading: never empty
        body = paragraphs[start + 1 : end]
        if not body or body[0] in RATING_RANKS:
            raise FrameworkParseError(f"standard {standard_id} has no statement")
        standards.append(Standard(standard_id, STANDARD_NAMES[standard_id], body[0]))

        rating: str | None = None
        number = 0
        seen: list[str] = []
        for paragraph in body[1:]:
            if paragraph in RATING_RANKS:
                rating, number = paragraph, 0
                seen.append(rating)
                continue
            if rating is None:
                raise FrameworkParseError(f"standard {standard_id}: text before the first rating")
            number += 1
            characteristics.append(
                Characteristic(
                    characteristic_id=f"{standard_id}-{rating_slug(rating)}-{number:02d}",
                    standard_id=standard_id,
                    rating=rating,
                    rating_rank=RATING_RANKS[rating],
                    paragraph_number=number,
                    characteristic_text=paragraph,
                )
            )
        if seen != list(RATING_RANKS):
            raise FrameworkParseError(f"standard {standard_id}: ratings {seen}, expected {list(RATING_RANKS)}")

    found = [s.standard_id for s in standards]
    if found != list(STANDARD_NAMES):
        raise FrameworkParseError(f"standards {found}, expected {list(STANDARD_NAMES)}")
    return standards, characteristics


def _to_csv(columns: tuple[str, ...], rows: list[tuple]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def render_seeds() -> dict[str, str]:
    """File name -> exact CSV content of every generated seed."""
    standards, characteristics = parse_framework(FRAMEWORK_TEXT.read_text(encoding="utf-8"))
    with REGIONS_CSV.open(encoding="utf-8", newline="") as handle:
        regions = [(row["region_code"], row["region_name"]) for row in csv.DictReader(handle)]
    return {
        "framework_standards.csv": _to_csv(
            STANDARDS_COLUMNS,
            [(s.standard_id, s.standard_name, s.standard_statement) for s in standards],
        ),
        "framework_characteristics.csv": _to_csv(
            CHARACTERISTICS_COLUMNS,
            [
                (
                    c.characteristic_id,
                    c.standard_id,
                    c.rating,
                    c.rating_rank,
                    c.paragraph_number,
                    c.characteristic_text,
                )
                for c in characteristics
            ],
        ),
        "ref_regions.csv": _to_csv(REGIONS_COLUMNS, sorted(regions)),
    }


def write_seeds(seed_dir: Path | str = DEFAULT_SEED_DIR) -> list[Path]:
    """Write the generated seeds into ``seed_dir``; returns the paths written."""
    seed_dir = Path(seed_dir)
    seed_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in render_seeds().items():
        path = seed_dir / name
        path.write_bytes(content.encode("utf-8"))
        written.append(path)
    return written


def stale_seeds(seed_dir: Path | str = DEFAULT_SEED_DIR) -> list[str]:
    """Names of generated seeds that are missing from ``seed_dir`` or differ from a fresh render."""
    seed_dir = Path(seed_dir)
    stale = []
    for name, content in render_seeds().items():
        path = seed_dir / name
        if not path.is_file() or path.read_bytes() != content.encode("utf-8"):
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m probation_evidence.reference.framework",
        description="Generate the framework and region seeds of the dbt project.",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the seeds on disk are stale")
    parser.add_argument("--seed-dir", type=Path, default=DEFAULT_SEED_DIR, help="default: %(default)s")
    args = parser.parse_args(argv)

    if args.check:
        stale = stale_seeds(args.seed_dir)
        if stale:
            print(
                f"Seeds out of date in {args.seed_dir}: {', '.join(stale)}. "
                "Regenerate them with: python -m probation_evidence.reference.framework",
                file=sys.stderr,
            )
            return 1
        print(f"Seeds up to date in {args.seed_dir}.")
        return 0

    for path in write_seeds(args.seed_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
