"""The printed pack: a large pack printed by headless chromium, checked page by page with poppler-utils.

What is checked is what goes wrong on paper: content cut at the page edge or spilling into the margins
(pixels in the margin band of every page image, and every word's box from `pdftotext -bbox`), a heading left
alone at the foot of a page, near-empty pages, a core longer than 30 pages, and a PDF that a screen reader
or a bookmark pane cannot use (not tagged, no outline).
"""

from __future__ import annotations

import html as html_lib
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from probation_evidence.packs import browser as pack_browser
from probation_evidence.packs.render import ANNEX_SECTIONS, CORE_SECTIONS, render_pack_html
from tests.pack_fixtures import LARGE_COUNTS, STANDARDS, large_context

pytestmark = pytest.mark.browser

MM = 72 / 25.4  # points per millimetre
#: The pack's @page margins (top, right, bottom, left) in mm: nothing may be printed outside them.
MARGINS_MM = (18.0, 16.0, 20.0, 16.0)
DPI = 50
CORE_PAGE_LIMIT = 30
#: A page (other than the last) must have ink on at least this share of its text area's rows.
MIN_INKED = 0.15


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: install poppler-utils (`sudo apt-get install chromium poppler-utils`)")
    return found


def _run(tool: str, *args: str) -> str:
    result = subprocess.run([_tool(tool), *args], capture_output=True, text=True, check=False, timeout=180)
    assert result.returncode == 0, f"{tool} failed: {result.stderr}"
    return result.stdout


@dataclass(frozen=True)
class Word:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    lines: tuple[tuple[Word, ...], ...]

    @property
    def words(self) -> list[Word]:
        return [word for line in self.lines for word in line]

    @property
    def text(self) -> str:
        return "\n".join(" ".join(w.text for w in line) for line in self.lines)


def read_pages(pdf: Path) -> list[Page]:
    """Every page's size and its text lines with word boxes (points, origin top left)."""
    layout = _run("pdftotext", "-bbox-layout", str(pdf), "-")
    pages = []
    for width, height, body in re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', layout, re.S):
        lines = []
        for line in re.findall(r"<line[^>]*>(.*?)</line>", body, re.S):
            words = tuple(
                Word(float(a), float(b), float(c), float(d), html_lib.unescape(t))
                for a, b, c, d, t in re.findall(
                    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', line
                )
            )
            if words:
                lines.append(words)
        pages.append(Page(float(width), float(height), tuple(lines)))
    return pages


@dataclass(frozen=True)
class Raster:
    """One page as 8-bit grey pixels (0 black, 255 white)."""

    width: int
    height: int
    pixels: bytes

    def row(self, y: int) -> bytes:
        return self.pixels[y * self.width : (y + 1) * self.width]


def _read_pgm(path: Path) -> Raster:
    data = path.read_bytes()
    match = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert match, f"{path} is not a binary PGM"
    width, height, maxval = (int(g) for g in match.groups())
    assert maxval == 255
    pixels = data[match.end() : match.end() + width * height]
    assert len(pixels) == width * height
    return Raster(width, height, pixels)


def rasterise(pdf: Path, out_dir: Path) -> list[Raster]:
    """Every page as a greyscale image at DPI (pdftoppm), in page order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _run("pdftoppm", "-r", str(DPI), "-gray", str(pdf), str(out_dir / "page"))
    images = sorted(out_dir.glob("page-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert images, "pdftoppm wrote no page"
    return [_read_pgm(image) for image in images]


def _px(mm: float) -> int:
    return round(mm * DPI / 25.4)


def ink_in_margin_band(raster: Raster, tolerance_mm: float = 2.0) -> list[str]:
    """Where the page has ink outside its text area (less `tolerance_mm` for anti-aliasing): [] if none."""
    top, right, bottom, left = (_px(m - tolerance_mm) for m in MARGINS_MM)
    found = []
    for y in range(raster.height):
        row = raster.row(y)
        if y < top or y >= raster.height - bottom:
            if min(row) < 250:
                found.append(f"ink in the {'top' if y < top else 'bottom'} band at row {y}")
                break
            continue
        if min(row[:left]) < 250 or min(row[raster.width - right :]) < 250:
            found.append(f"ink in a side band at row {y}")
            break
    return found


def inked_share(raster: Raster) -> float:
    """The share of the text area's pixel rows that hold any ink."""
    top, _, bottom, _ = (_px(m) for m in MARGINS_MM)
    rows = range(top, raster.height - bottom)
    return sum(1 for y in rows if min(raster.row(y)) < 200) / len(rows)


def words_outside_margins(page: Page, tolerance_pt: float = 1.5) -> list[Word]:
    top, right, bottom, left = (m * MM for m in MARGINS_MM)
    return [
        w
        for w in page.words
        if w.x0 < left - tolerance_pt
        or w.x1 > page.width - right + tolerance_pt
        or w.y0 < top - tolerance_pt
        or w.y1 > page.height - bottom + tolerance_pt
    ]


def page_of(pages: list[Page], text: str, start: int = 0) -> int:
    """The 1-based number of the first page from `start` (0-based) whose text holds `text`."""
    for number, page in enumerate(pages[start:], start=start + 1):
        if text in page.text:
            return number
    pytest.fail(f"{text!r} is on no page from page {start + 1}")


@pytest.fixture(scope="module")
def chromium() -> Iterator[pack_browser.PackBrowser]:
    with pack_browser.PackBrowser() as started:
        yield started


@dataclass(frozen=True)
class Printed:
    pdf: Path
    html: str
    pages: list[Page]
    rasters: list[Raster]


@pytest.fixture(scope="module")
def printed(chromium, tmp_path_factory) -> Printed:
    folder = tmp_path_factory.mktemp("large-pack")
    html = render_pack_html(large_context())
    source = folder / "pack.html"
    source.write_text(html, encoding="utf-8")
    pdf = pack_browser.render_pdf(source, folder / "pack.pdf", browser=chromium)
    return Printed(pdf, html, read_pages(pdf), rasterise(pdf, folder / "pages"))


def test_the_large_pack_is_as_large_as_the_largest_provider():
    ctx = large_context()
    lines = [line for section in ctx.standards for line in section.evidence]
    assert len(lines) == sum(LARGE_COUNTS.values()) >= 45
    assert sum(1 for line in lines if line.peers and line.pdus and len(line.trend) >= 4) >= 40


def test_no_content_in_the_margins_of_any_page(printed):
    assert len(printed.rasters) == len(printed.pages) > 30
    for number, raster in enumerate(printed.rasters, start=1):
        assert ink_in_margin_band(raster) == [], f"page {number}"


def test_every_word_lies_inside_the_page_margins(printed):
    for number, page in enumerate(printed.pages, start=1):
        outside = words_outside_margins(page)
        assert outside == [], f"page {number}: {[(w.text, round(w.x0), round(w.x1)) for w in outside[:5]]}"


def _print_page(chromium, tmp_path: Path, name: str, page_css: str, body: str) -> Path:
    page = tmp_path / f"{name}.html"
    page.write_text(
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{name}</title><style>{page_css}"
        "td { white-space: nowrap; border: 1px solid #000; }</style></head>"
        f"<body>{body}</body></html>",
        encoding="utf-8",
    )
    return pack_browser.render_pdf(page, tmp_path / f"{name}.pdf", browser=chromium)


WIDE_TABLE = (
    "<table><tr>" + "".join(f"<td>column-{n}-with-a-long-unbreakable-value</td>" for n in range(8)) + "</tr></table>"
)


def test_the_margin_checks_catch_content_cut_at_or_printed_past_the_margins(chromium, tmp_path):
    # The checks above must be able to fail. Chromium clips a table wider than the text area at the margin:
    # its words' boxes run past it. Printed with no page margin, the same table puts ink in the margin band.
    clipped = _print_page(chromium, tmp_path, "clipped", "@page { size: A4; margin: 18mm 16mm 20mm; }", WIDE_TABLE)
    assert words_outside_margins(read_pages(clipped)[0])
    edge = _print_page(chromium, tmp_path, "edge", "@page { size: A4; margin: 0; } body { margin: 0; }", WIDE_TABLE)
    assert ink_in_margin_band(rasterise(edge, tmp_path / "edge")[0])
    assert _wider_than_text_area(chromium, clipped.with_suffix(".html"))


def _wider_than_text_area(chromium, source: Path) -> list[str]:
    """Elements wider than the A4 text area when the page is laid out with its print styles."""
    text_width_px = round((210 - MARGINS_MM[1] - MARGINS_MM[3]) / 25.4 * 96)
    with chromium.open(source) as (page, _):
        page.emulate_media(media="print")
        page.set_viewport_size({"width": text_width_px, "height": 1000})
        return page.evaluate(WIDER_THAN_PAGE_JS)


def test_nothing_in_the_printed_layout_is_wider_than_the_text_area(chromium, tmp_path):
    # The same check in the page itself: with print styles at the A4 text width, no element sticks out.
    source = tmp_path / "pack.html"
    source.write_text(render_pack_html(large_context()), encoding="utf-8")
    assert _wider_than_text_area(chromium, source) == []


# Elements whose box runs past the page's right edge (the layout viewport), with what they are.
WIDER_THAN_PAGE_JS = """
() => {
  const limit = document.documentElement.clientWidth + 1;
  return [...document.querySelectorAll('body *')]
    .filter((el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.right > limit; })
    .slice(0, 10)
    .map((el) => `${el.localName}.${el.className && el.className.baseVal === undefined ? el.className : ''}`
      + ` right=${Math.round(el.getBoundingClientRect().right)} > ${limit}`);
}
"""


def test_the_pdf_is_tagged_and_has_an_outline_of_the_sections(printed):
    info = _run("pdfinfo", str(printed.pdf))
    assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE), info
    raw = printed.pdf.read_bytes()
    assert b"/Outlines" in raw
    for _, title in (*CORE_SECTIONS, *ANNEX_SECTIONS):
        assert b"/Title (" + title.encode() + b")" in raw, title
    for sid, (name, _) in STANDARDS.items():
        assert f"/Title ({sid} {name})".encode() in raw, sid


def test_the_cover_page_holds_the_contents_and_the_overview_comes_straight_after_it(printed):
    cover = printed.pages[0].text
    assert "Evidence pack: London" in cover and "Indicative evidence, not a rating" in cover
    contents = cover[cover.index("Contents") :]
    for _, title in (*CORE_SECTIONS, *ANNEX_SECTIONS):
        assert title in contents.replace("\n", " "), title
    assert printed.pages[1].text.startswith("Overview: every indicator against all providers")


def test_the_core_fits_in_30_pages_and_the_annex_follows_it(printed):
    pages = printed.pages
    annex = page_of(pages, "Annex: indicator detail", start=1)
    assert annex <= CORE_PAGE_LIMIT, f"the core runs to page {annex}"
    # Every part of the core is before the annex heading, every part of the annex from it on.
    for sid, (name, _) in STANDARDS.items():
        assert page_of(pages, f"{sid} {name}", start=1) <= annex
    assert page_of(pages, "Summary by standard", start=1) <= page_of(pages, "Areas of interest", start=1) <= annex
    assert annex <= page_of(pages, "Methods", start=annex) <= page_of(pages, "Provenance annex", start=annex)
    assert len(pages) > annex + 20  # the annex holds the full indicator pages


def test_the_summary_tables_last_column_is_printed(printed):
    summary = page_of(printed.pages, "Summary by standard", start=1)
    text = " ".join(printed.pages[summary - 1].text.split())
    assert "Indicative roll-up" in text
    assert text.count("(indicative; mean 1.45 points, rule") == len(LARGE_COUNTS)


def test_no_page_but_the_last_is_near_empty(printed):
    shares = [inked_share(raster) for raster in printed.rasters]
    sparse = [(n, round(s, 2)) for n, s in enumerate(shares[:-1], start=1) if s < MIN_INKED]
    assert sparse == [], sparse


def test_no_heading_is_left_alone_at_the_foot_of_a_page(printed):
    headings = {
        " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", text)).split())
        for text in re.findall(r"<h[2-5][^>]*>(.*?)</h[2-5]>", printed.html, re.S)
    }
    for number, page in enumerate(printed.pages[:-1], start=1):
        lowest = max(page.lines, key=lambda line: max(w.y1 for w in line))
        last = " ".join(w.text for w in lowest)
        assert last not in headings, f"page {number} ends with the heading {last!r}"
