"""The pack on screen, in headless chromium: an axe-core audit, the filters, and keyboard access to every chart.

axe-core comes from the axe-playwright-python package (its bundled axe.min.js), evaluated in the page by
Playwright: nothing is fetched, and the pack's network block still aborts any request the page makes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from probation_evidence.packs import browser as pack_browser
from probation_evidence.packs.render import render_pack_html
from tests.pack_fixtures import LARGE_COUNTS, large_context

pytestmark = pytest.mark.browser

#: Impacts that fail the audit. Minor and moderate findings are reported in the failure message of the
#: serious ones only; they are advice, not barriers.
BLOCKING = {"serious", "critical"}
SMALL_COUNTS = {"1.1": 2, "1.2": 3, "1.3": 1, "1.4": 2}


@pytest.fixture(scope="module")
def chromium() -> Iterator[pack_browser.PackBrowser]:
    with pack_browser.PackBrowser() as started:
        yield started


def _write(tmp_path: Path, name: str, ctx) -> Path:
    path = tmp_path / name
    path.write_text(render_pack_html(ctx), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def large_pack(tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("a11y"), "large.html", large_context())


def _axe_violations(page) -> list[dict]:
    results = Axe().run(page)
    return results.response["violations"]


def _describe(violations: list[dict]) -> list[str]:
    return [
        f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])} nodes, e.g. {v['nodes'][0]['target']})"
        for v in violations
    ]


def test_axe_finds_no_serious_or_critical_violation_in_a_large_pack(chromium, large_pack):
    with chromium.open(large_pack) as (page, log):
        violations = _axe_violations(page)
        # With the filters in use the page must stay as accessible (hidden lines, a status message).
        page.check("#filter-significant")
        page.select_option("#filter-standard", "1.2")
        filtered = _axe_violations(page)
    assert log.blocked_requests == [] and log.console_errors == [] and log.page_errors == []
    blocking = [v for v in violations + filtered if v["impact"] in BLOCKING]
    assert blocking == [], _describe(blocking)


def test_axe_catches_a_serious_violation(chromium, tmp_path):
    # The audit is able to fail: an image with no text alternative and a form field with no label.
    page_path = tmp_path / "bad.html"
    page_path.write_text(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Bad</title></head><body><main>"
        "<h1>Bad</h1><svg role='img' width='10' height='10'></svg><input type='text'></main></body></html>",
        encoding="utf-8",
    )
    with chromium.open(page_path) as (page, _):
        found = {v["id"] for v in _axe_violations(page) if v["impact"] in BLOCKING}
    assert {"svg-img-alt", "label"} <= found


def _visible(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.filter((e) => e.offsetParent !== null).map((e) => e.id)")


def test_the_filters_hide_similar_lines_and_other_standards(chromium, large_pack):
    ctx = large_context()
    lines = {line.indicator_id: (s.standard_id, line) for s in ctx.standards for line in s.evidence}
    significant = {
        f"line-{i.lower()}"
        for i, (_, line) in lines.items()
        if line.value is not None and line.comparison in {"better", "worse"}
    }
    in_12 = {f"line-{i.lower()}" for i, (sid, _) in lines.items() if sid == "1.2"}
    assert 0 < len(significant) < len(lines) and 0 < len(in_12) < len(lines)

    with chromium.open(large_pack) as (page, log):
        rows = "tbody.evidence-line"
        assert page.is_visible("#pack-filters")
        assert set(_visible(page, rows)) == {f"line-{i.lower()}" for i in lines}
        assert page.text_content("#filter-status") == f"Showing {len(lines)} of {len(lines)} indicators."

        page.click("#filter-significant")
        assert set(_visible(page, rows)) == significant
        details = set(_visible(page, "article.indicator-detail"))
        assert details == {row.replace("line-", "indicator-") for row in significant}
        assert page.text_content("#filter-status") == f"Showing {len(significant)} of {len(lines)} indicators."

        page.click("#filter-significant")
        page.select_option("#filter-standard", "1.2")
        assert set(_visible(page, rows)) == in_12
        assert _visible(page, "section.standard") == ["standard-1-2"]

        page.check("#filter-significant")
        assert set(_visible(page, rows)) == in_12 & significant

        page.uncheck("#filter-significant")
        page.select_option("#filter-standard", "")
        assert len(_visible(page, rows)) == len(lines)
    assert log.console_errors == [] and log.page_errors == [], "the script must run under the page's CSP"


def test_without_scripts_every_line_shows_and_the_filters_stay_hidden(chromium, large_pack):
    with chromium.open(large_pack, java_script_enabled=False) as (page, _):
        assert not page.is_visible("#pack-filters")
        assert len(_visible(page, "tbody.evidence-line")) == sum(LARGE_COUNTS.values())


def test_tab_reaches_every_chart(chromium, tmp_path):
    pack = _write(tmp_path, "small.html", large_context(SMALL_COUNTS))
    with chromium.open(pack) as (page, _):
        charts = page.eval_on_selector_all("figure.chart", "els => els.length")
        assert charts >= 3 * sum(SMALL_COUNTS.values())
        reached: set[int] = set()
        focusable = page.evaluate(
            "() => document.querySelectorAll('a[href], summary, select, input, [tabindex=\"0\"]').length"
        )
        for _ in range(focusable + 5):
            page.keyboard.press("Tab")
            index = page.evaluate(
                "() => [...document.querySelectorAll('figure.chart')].indexOf(document.activeElement)"
            )
            if index >= 0:
                reached.add(index)
        assert reached == set(range(charts))
        names = page.eval_on_selector_all("figure.chart", "els => els.map((e) => e.getAttribute('aria-label') || '')")
        assert all(name.strip() for name in names)


def test_every_chart_has_its_numbers_in_a_table(chromium, large_pack):
    with chromium.open(large_pack) as (page, _):
        missing = page.eval_on_selector_all(
            "figure.chart",
            "els => els.filter((f) => !f.querySelector(':scope > details.chart-data table tbody tr')).length",
        )
        count = page.eval_on_selector_all("figure.chart", "els => els.length")
    assert count > 100 and missing == 0
