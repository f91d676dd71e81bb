"""Packs in a real headless browser: Debian's chromium driven by Playwright, PDFs checked with poppler-utils.

No skips: without chromium (or pdfinfo/pdftotext) these tests fail with the install command, because CI
installs them (`apt-get install chromium poppler-utils`). The screenshot and the PDF of the sample
pack are copied to test-artifacts/ at the repository root, for CI to keep.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from probation_evidence.packs import browser as pack_browser

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
A4_POINTS = (595.3, 841.9)
A5_POINTS = (419.5, 595.3)


def _chart(title: str, bars: list[int]) -> str:
    rects = "".join(
        f'<rect x="{20 + i * 60}" y="{100 - value}" width="40" height="{value}" fill="#1d4f91"/>'
        for i, value in enumerate(bars)
    )
    return (
        f'<figure class="chart"><svg viewBox="0 0 300 110" role="img" aria-label="{title}">'
        f'<title>{title}</title><line x1="10" y1="100" x2="290" y2="100" stroke="#505a5f"/>{rects}</svg>'
        f"<figcaption>{title}</figcaption></figure>"
    )


def _page(body: str, *, title: str = "Evidence pack: Northshire PDU", page_size: str = "A4") -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; color: #1d1d1b; }}
main {{ max-width: 60rem; margin: 0 auto; padding: 1.5rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #b1b4b6; padding: 0.3rem 0.5rem; text-align: left; }}
thead th {{ background: #dbe5f1; }}
figure.chart svg {{ width: 100%; height: auto; display: block; }}
@page {{ size: {page_size}; margin: 18mm 16mm 20mm; }}
</style></head>
<body><main>{body}</main></body></html>
"""


SAMPLE_BODY = f"""
<h1>Evidence pack: Northshire PDU</h1>
<p>Domain one: organisational delivery. Data as at 30 September 2026.</p>
<h2>Standard 1.1 Leadership</h2>
<table>
  <thead><tr><th>Indicator</th><th>Provider</th><th>National</th></tr></thead>
  <tbody><tr><td>Staff vacancy rate</td><td>12.4%</td><td>9.8%</td></tr>
         <tr><td>Sickness absence days</td><td>8.1</td><td>7.6</td></tr></tbody>
</table>
{_chart("Vacancy rate by quarter", [40, 55, 62, 48])}
<h2>Standard 1.2 Staffing</h2>
{_chart("Caseload per practitioner", [70, 64, 81, 77])}
<h3>Annex: data quality</h3>
<p>All six provider feeds arrived on time.</p>
"""
SAMPLE_HEADINGS = [
    ("h1", "Evidence pack: Northshire PDU"),
    ("h2", "Standard 1.1 Leadership"),
    ("h2", "Standard 1.2 Staffing"),
    ("h3", "Annex: data quality"),
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[pack_browser.PackBrowser]:
    """One browser for the module (starting it is the slow part). Fails, with the install hint, if missing."""
    with pack_browser.PackBrowser() as started:
        yield started


@pytest.fixture
def sample_pack(tmp_path: Path) -> Path:
    path = tmp_path / "northshire.html"
    path.write_text(_page(SAMPLE_BODY), encoding="utf-8")
    return path


def _write(tmp_path: Path, name: str, html: str) -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


def _poppler(tool: str, *args: str) -> str:
    executable = shutil.which(tool)
    if executable is None:
        pytest.fail(f"{tool} not found: install poppler-utils (`sudo apt-get install chromium poppler-utils`)")
    result = subprocess.run([executable, *args], capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, f"{tool} failed: {result.stderr}"
    return result.stdout


def _pdf_pages_and_size(pdf: Path) -> tuple[int, tuple[float, float]]:
    info = _poppler("pdfinfo", str(pdf))
    pages = re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.MULTILINE)
    assert pages and size, info
    return int(pages.group(1)), (float(size.group(1)), float(size.group(2)))


def _png_dimensions(png: Path) -> tuple[int, int]:
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", header[16:24])


def _keep_artifact(path: Path, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(path, ARTIFACTS / name)


def test_find_chromium_explains_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "no-such-chromium"))
    with pytest.raises(pack_browser.ChromiumNotFoundError, match=r"apt-get install chromium poppler-utils"):
        pack_browser.find_chromium()


def test_sample_pack_renders_its_charts_without_errors(chromium, sample_pack, tmp_path):
    screenshot = tmp_path / "northshire.png"

    report = pack_browser.inspect_page(sample_pack, screenshot, browser=chromium)

    _keep_artifact(screenshot, "pack-browser-sample.png")
    assert report["title"] == "Evidence pack: Northshire PDU"
    assert (report["svg_count"], report["svg_rendered"], report["svg_without_title"]) == (2, 2, 0)
    assert report["headings"] == SAMPLE_HEADINGS
    assert report["table_count"] == 1
    assert report["console_errors"] == []
    assert report["page_errors"] == []
    assert report["blocked_requests"] == []
    assert report["images_without_alt"] == 0
    width, height = _png_dimensions(screenshot)
    assert width == 1280 and height >= 900, (width, height)
    assert screenshot.stat().st_size > 20_000, "screenshot looks blank"


def test_hidden_chart_is_not_counted_as_rendered(chromium, tmp_path):
    page = _write(
        tmp_path, "hidden.html", _page(f'<h1>Hidden</h1><div style="display:none">{_chart("Gone", [5])}</div>')
    )

    report = pack_browser.inspect_page(page, tmp_path / "hidden.png", browser=chromium)

    assert (report["svg_count"], report["svg_rendered"]) == (1, 0)


def test_script_errors_are_reported(chromium, tmp_path):
    body = "<h1>Broken</h1><script>console.error('x')</script><script>throw new Error('boom')</script>"
    page = _write(tmp_path, "broken.html", _page(body))

    report = pack_browser.inspect_page(page, tmp_path / "broken.png", browser=chromium)

    assert report["console_errors"] == ["x"]
    assert len(report["page_errors"]) == 1 and "boom" in report["page_errors"][0]


def test_network_requests_are_blocked_and_reported(chromium, tmp_path):
    page = _write(tmp_path, "remote.html", _page('<h1>Remote</h1><img src="https://example.com/x.png">'))

    report = pack_browser.inspect_page(page, tmp_path / "remote.png", browser=chromium)

    assert report["blocked_requests"] == ["https://example.com/x.png"]
    assert report["images_without_alt"] == 1
    assert report["images_broken"] == 1
    pdf = tmp_path / "remote.pdf"
    with pytest.raises(pack_browser.BlockedRequestError, match=r"https://example\.com/x\.png"):
        pack_browser.render_pdf(page, pdf, browser=chromium)
    assert not pdf.exists()


def test_pdf_is_a4_with_searchable_text(chromium, sample_pack, tmp_path):
    pdf = pack_browser.render_pdf(sample_pack, tmp_path / "out" / "northshire.pdf", browser=chromium)

    _keep_artifact(pdf, "pack-browser-sample.pdf")
    pages, (width, height) = _pdf_pages_and_size(pdf)
    assert pages >= 1
    assert (width, height) == pytest.approx(A4_POINTS, abs=1.0)
    text = _poppler("pdftotext", "-layout", str(pdf), "-")
    for _, heading in SAMPLE_HEADINGS:
        assert heading in text
    assert "Staff vacancy rate" in text
    assert "Vacancy rate by quarter" in text  # chart caption: text, not an image


def test_pdf_is_tagged_with_bookmarks_from_the_headings(chromium, sample_pack, tmp_path):
    pdf = pack_browser.render_pdf(sample_pack, tmp_path / "tagged.pdf", browser=chromium)

    info = _poppler("pdfinfo", str(pdf))
    assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE), info
    raw = pdf.read_bytes()
    assert b"/Outlines" in raw and b"/StructTreeRoot" in raw
    for _, heading in SAMPLE_HEADINGS:
        assert b"/Title (" + heading.encode() + b")" in raw, heading


def test_pdf_honours_css_page_size(chromium, tmp_path):
    page = _write(tmp_path, "a5.html", _page("<h1>Small print</h1>", page_size="A5"))

    pdf = pack_browser.render_pdf(page, tmp_path / "a5.pdf", browser=chromium)

    _, size = _pdf_pages_and_size(pdf)
    assert size == pytest.approx(A5_POINTS, abs=1.0)


def test_render_pdf_without_browser_reuses_the_running_one(chromium, sample_pack, tmp_path):
    pdf = pack_browser.render_pdf(sample_pack, tmp_path / "reused.pdf")

    assert pdf.read_bytes().startswith(b"%PDF-")
    with pytest.raises(RuntimeError, match="already running in this thread"), pack_browser.PackBrowser():
        pass


def test_render_pdf_starts_its_own_browser_when_none_is_running(chromium, sample_pack, tmp_path):
    # A PackBrowser belongs to the thread that started it: a fresh thread has none, so render_pdf starts one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pdf = pool.submit(pack_browser.render_pdf, sample_pack, tmp_path / "alone.pdf").result(timeout=120)

    assert pdf.read_bytes().startswith(b"%PDF-")
