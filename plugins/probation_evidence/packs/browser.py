"""Headless chromium for evidence packs: an A4 PDF of each pack, and a look at the page as a reader sees it.

Playwright drives Debian's chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`); never `playwright install`,
which downloads a browser from a host we cannot reach. Starting the browser is the slow part (about a second),
so `PackBrowser` starts it once and is reused for many packs:

    with PackBrowser() as browser:
        for html in packs:
            render_pdf(html, html.with_suffix(".pdf"), browser=browser)

Packs are self-contained: every request that is not `file:` or `data:` is aborted before it leaves the
machine and recorded; `render_pdf` raises `BlockedRequestError` if a pack tried any.

The sync API binds a browser to the thread that started it, and cannot run inside a running asyncio event
loop; only one PackBrowser can run per thread, and `render_pdf`/`inspect_page` without `browser=` reuse it if
one is running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Playwright adds --headless and --no-sandbox itself. Debian's wrapper script does not add
# --disable-dev-shm-usage, and a small /dev/shm (containers) crashes tabs without it.
LAUNCH_ARGS = (
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
ALLOWED_SCHEMES = ("file:", "data:")
INSTALL_HINT = (
    "Install it with `sudo apt-get install chromium poppler-utils` (Debian/Ubuntu), "
    "or set CHROMIUM_PATH to a chromium executable. Do not run `playwright install`."
)

# Runs in the page: what a reader would see, and what an accessibility check would flag.
_INSPECT_JS = """
() => {
  const text = (el) => el.textContent.replace(/\\s+/g, ' ').trim();
  const svgs = [...document.querySelectorAll('svg')].filter((s) => !s.parentElement.closest('svg'));
  const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const named = (s) => s.hasAttribute('aria-label') || s.querySelector(':scope > title') !== null;
  const images = [...document.querySelectorAll('img')];
  return {
    title: document.title,
    svg_count: svgs.length,
    svg_rendered: svgs.filter(shown).length,
    svg_without_title: svgs.filter((s) => !named(s)).length,
    headings: [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map((h) => [h.localName, text(h)]),
    table_count: document.querySelectorAll('table').length,
    images_without_alt: images.filter((i) => !i.hasAttribute('alt')).length,
    images_broken: images.filter((i) => i.complete && i.naturalWidth === 0).length,
  };
}
"""


_running = threading.local()  # .browser: the PackBrowser started in this thread, if any


class ChromiumNotFoundError(RuntimeError):
    """No chromium executable: the message says how to install one."""


class BlockedRequestError(RuntimeError):
    """A pack tried to fetch something over the network; `urls` lists what was blocked."""

    def __init__(self, html_path: Path, urls: list[str]) -> None:
        shown = ", ".join(urls[:5]) + (f" (+{len(urls) - 5} more)" if len(urls) > 5 else "")
        super().__init__(f"{html_path} is not self-contained: blocked {len(urls)} network request(s): {shown}")
        self.urls = urls


def find_chromium() -> str:
    """The chromium to drive: `CHROMIUM_PATH`, else /usr/bin/chromium, else `chromium` on PATH."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise ChromiumNotFoundError(f"CHROMIUM_PATH={configured!r} is not an executable file. {INSTALL_HINT}")
        return configured
    if os.path.isfile(DEFAULT_CHROMIUM) and os.access(DEFAULT_CHROMIUM, os.X_OK):
        return DEFAULT_CHROMIUM
    found = shutil.which("chromium")
    if found:
        return found
    raise ChromiumNotFoundError(f"chromium not found (checked CHROMIUM_PATH, {DEFAULT_CHROMIUM}, PATH). {INSTALL_HINT}")


@dataclass
class _PageLog:
    """What one page did while loading: blocked requests, console errors, uncaught exceptions."""

    blocked_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(ALLOWED_SCHEMES):
            route.continue_()
        else:
            self.blocked_requests.append(url)
            route.abort("blockedbyclient")

    def console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def page_error(self, error: Any) -> None:
        self.page_errors.append(str(error))


class PackBrowser:
    """One Playwright driver and chromium process, started once and reused; a context manager."""

    def __init__(self, executable_path: str | None = None, timeout_ms: int = 30_000) -> None:
        self.executable_path = executable_path
        self.timeout_ms = timeout_ms
        self._playwright: Any = None
        self._browser: Any = None

    def __enter__(self) -> PackBrowser:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        if self._browser is not None:
            return
        if getattr(_running, "browser", None) is not None:
            raise RuntimeError("a PackBrowser is already running in this thread: pass it as browser= instead")
        executable = self.executable_path or find_chromium()
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(executable_path=executable, args=list(LAUNCH_ARGS))
        except Exception:
            self._playwright.stop()
            self._playwright = None
            raise
        _running.browser = self

    def close(self) -> None:
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            self._browser = None
            if getattr(_running, "browser", None) is self:
                _running.browser = None
            if self._playwright is not None:
                self._playwright.stop()
                self._playwright = None

    @contextlib.contextmanager
    def open(
        self, html_path: str | Path, *, java_script_enabled: bool = True
    ) -> Generator[tuple[Any, _PageLog], None, None]:
        """Load a pack in a fresh browser context (no state shared between packs); yield (page, log).

        `java_script_enabled=False` shows the pack as a reader with scripts turned off sees it.
        """
        self.start()
        url = Path(html_path).resolve(strict=True).as_uri()
        log = _PageLog()
        context = self._browser.new_context(
            viewport={"width": 1280, "height": 900}, java_script_enabled=java_script_enabled
        )
        try:
            context.set_default_timeout(self.timeout_ms)
            context.route("**/*", log.route)
            page = context.new_page()
            page.on("console", log.console)
            page.on("pageerror", log.page_error)
            page.goto(url, wait_until="load")
            page.evaluate("() => document.fonts.ready.then(() => true)")
            yield page, log
        finally:
            context.close()


@contextlib.contextmanager
def _using(browser: PackBrowser | None) -> Generator[PackBrowser, None, None]:
    browser = browser or getattr(_running, "browser", None)
    if browser is not None:
        yield browser
        return
    with PackBrowser() as owned:
        yield owned


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def render_pdf(html_path: str | Path, pdf_path: str | Path, browser: PackBrowser | None = None) -> Path:
    """Print a pack to PDF: A4 unless its CSS @page says otherwise, backgrounds printed, no header or footer.

    The PDF is tagged (its structure tree lets a screen reader follow headings, lists and tables) and has an
    outline: bookmarks built from the headings, so a reader can jump to any section.

    Raises BlockedRequestError (and writes nothing) if the page tried to fetch anything over the network.
    """
    pdf_path = Path(pdf_path)
    with _using(browser) as active, active.open(html_path) as (page, log):
        if log.blocked_requests:
            raise BlockedRequestError(Path(html_path), log.blocked_requests)
        data = page.pdf(format="A4", print_background=True, prefer_css_page_size=True, tagged=True, outline=True)
    _write_atomically(pdf_path, data)
    return pdf_path


#: How much of the page the screenshot keeps, in CSS pixels from the top: the cover, the contents and the
#: overview. A whole pack with its annex is taller than chromium can capture in reasonable time.
SCREENSHOT_HEIGHT = 6000


def inspect_page(html_path: str | Path, screenshot_path: str | Path, browser: PackBrowser | None = None) -> dict:
    """Load a pack as a reader would, save a PNG of its top (SCREENSHOT_HEIGHT), and report what the page did.

    Keys: title, console_errors, page_errors, blocked_requests, svg_count, svg_rendered (non-zero bounding box),
    svg_without_title, headings [(tag, text)], table_count, images_without_alt, images_broken, screenshot.
    Nothing here raises for a bad page: the caller (a test) decides what is acceptable.
    """
    screenshot_path = Path(screenshot_path)
    with _using(browser) as active, active.open(html_path) as (page, log):
        found = page.evaluate(_INSPECT_JS)
        # A viewport as tall as the part kept: a full-page capture of a whole pack lays out and paints every
        # page of the annex, and takes longer than a minute.
        height = min(SCREENSHOT_HEIGHT, page.evaluate("() => document.documentElement.scrollHeight"))
        width = page.viewport_size["width"] if page.viewport_size else 1280
        page.set_viewport_size({"width": width, "height": max(height, 1)})
        _write_atomically(screenshot_path, page.screenshot(type="png"))
        return {
            **found,
            "headings": [tuple(heading) for heading in found["headings"]],
            "console_errors": list(log.console_errors),
            "page_errors": list(log.page_errors),
            "blocked_requests": list(log.blocked_requests),
            "screenshot": screenshot_path,
        }
