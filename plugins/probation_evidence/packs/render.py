"""Render an evidence pack to one self-contained, deterministic HTML file.

Self-contained: CSS and SVG are inline and nothing is fetched, so the file opens the same offline, in a
secure inspection laptop, or years later. Deterministic: the output depends only on the PackContext (no
clock, no locale, no random ids), so regenerating a pack for the same as-at date gives identical bytes
and a content hash can prove it. All data is escaped by Jinja's autoescape; the only markup built in
Python is the <mark> highlighting (packs.formats), which wraps individually escaped fragments, the charts
(packs.charts, which escape their own data) and the constant filter script.

Structure: a core to read before fieldwork (cover, contents, an overview chart of every indicator, the
summary, areas of interest, data quality and one compact row per indicator), then an annex with each
indicator's full page, the methods and the provenance of the numbers. Every chart is keyboard-reachable
and carries its numbers as a table (packs.figures); on screen a sidebar holds the contents and two filters
(a small inline script allowed by its hash in the page's Content-Security-Policy; with scripts off every
line shows). The view of each standard and line is built in packs.views.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from probation_evidence.packs.figures import overview
from probation_evidence.packs.formats import format_long_date, format_number, format_utc_timestamp
from probation_evidence.packs.views import issue_view, methods, section_view, summary_row
from probation_evidence.reference.framework import RATINGS

if TYPE_CHECKING:
    from probation_evidence.packs.model import PackContext


TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "pack.html.j2"
_SAFE_PATH_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_FRAMEWORK_QUOTE = (
    "They provide a framework to support the lead inspector's recommendation rather than being a "
    "checklist; we would not expect every characteristic to be present for the corresponding rating "
    "to be given."
)


def render_pack_html(ctx: PackContext) -> str:
    """Render the pack to an HTML string; the same context always gives the same string."""
    template = _environment().get_template(TEMPLATE_NAME)
    return template.render(_view(ctx))


class PackIds(Protocol):
    """What names a pack's files: a PackContext, or its ids alone."""

    @property
    def inspection_id(self) -> str: ...
    @property
    def provider_id(self) -> str: ...
    @property
    def pack_version(self) -> str: ...


def pack_path(ctx: PackIds, out_dir: Path, suffix: str = ".html") -> Path:
    """`<out_dir>/<inspection_id>/<provider_id>-evidence-pack-v<version><suffix>`, refusing unsafe parts."""
    for part in (ctx.inspection_id, ctx.provider_id, ctx.pack_version):
        if not _SAFE_PATH_PART.match(part):
            raise ValueError(f"Unsafe value for a file name: {part!r}")
    return Path(out_dir) / ctx.inspection_id / f"{ctx.provider_id}-evidence-pack-v{ctx.pack_version}{suffix}"


def write_pack(ctx: PackContext, out_dir: Path) -> Path:
    """Write the pack's HTML atomically (see atomic_write); returns its path."""
    target = pack_path(ctx, out_dir)
    atomic_write(target, render_pack_html(ctx).encode("utf-8"))
    return target


def atomic_write(target: Path, payload: bytes) -> bool:
    """Write `payload` next to `target` and swap it in with os.replace; False when the file already held it.

    A reader (or a publisher computing a hash) never sees a half-written file, a failed write leaves the
    old one, and an unchanged file is not touched at all, so a rerun changes nothing on disk.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and target.read_bytes() == payload:
        return False
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return True


def _environment() -> Environment:
    """Jinja environment: autoescape everything, and fail on any undefined name rather than print ''."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["long_date"] = format_long_date
    env.filters["utc_timestamp"] = format_utc_timestamp
    env.filters["number"] = format_number
    return env


def _view(ctx: PackContext) -> dict:
    """The template's variables: the context plus derived, display-ready pieces."""
    sections = [section_view(s, ctx.provider_id) for s in ctx.standards]
    return {
        "ctx": ctx,
        "ratings": RATINGS,
        # Soft hyphens let the long band names wrap in the summary table's narrow columns.
        "rating_headers": {
            r: r.replace("Outstanding", "Out\u00adstanding").replace("Inadequate", "Inade\u00adquate") for r in RATINGS
        },
        "framework_quote": _FRAMEWORK_QUOTE,
        "summary": [summary_row(s) for s in ctx.standards],
        "issues": [issue_view(i) for i in ctx.submission_issues],
        "issue_counts": {s: sum(i.status == s for i in ctx.submission_issues) for s in ("failed", "missing", "late")},
        "methods": methods(ctx),
        "sections": sections,
        "overview": overview(ctx),
        "contents": _contents(sections),
        "peer_names": ", ".join(f"{p.provider_name} ({p.provider_id})" for p in ctx.peer_group),
        "total_quarantined": sum(b.rows_quarantined for b in ctx.batches),
        "line_count": sum(len(s.evidence) for s in ctx.standards),
        "script": Markup(FILTER_SCRIPT),  # noqa: S704 - a constant of this module, no data in it
        "csp": content_security_policy(),
    }


# The on-screen filters: progressive enhancement, so with scripts off the form stays hidden and every line
# shows. The Content-Security-Policy allows this one script by its hash and nothing else.
FILTER_SCRIPT = """
(function () {
  var form = document.getElementById('pack-filters');
  if (!form) { return; }
  var significant = document.getElementById('filter-significant');
  var standard = document.getElementById('filter-standard');
  var status = document.getElementById('filter-status');
  var lines = document.querySelectorAll('[data-filter-line]');
  var groups = document.querySelectorAll('[data-filter-group]');
  function apply() {
    var onlySignificant = significant.checked;
    var only = standard.value;
    var shown = 0;
    var total = 0;
    lines.forEach(function (el) {
      var hide = (onlySignificant && el.getAttribute('data-significant') !== 'true') ||
        (only !== '' && el.getAttribute('data-standard') !== only);
      el.hidden = hide;
      if (el.hasAttribute('data-filter-count')) { total += 1; if (!hide) { shown += 1; } }
    });
    groups.forEach(function (el) {
      el.hidden = only !== '' && el.getAttribute('data-standard') !== only;
    });
    status.textContent = 'Showing ' + shown + ' of ' + total + ' indicators.';
  }
  significant.addEventListener('change', apply);
  standard.addEventListener('change', apply);
  form.addEventListener('submit', function (event) { event.preventDefault(); });
  form.hidden = false;
  apply();
}());
"""


def filter_script_source() -> str:
    """The CSP source that allows the filter script and nothing else: its hash."""
    digest = base64.b64encode(hashlib.sha256(FILTER_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def content_security_policy() -> str:
    """The pack's policy: nothing fetched, inline styles, and only the filter script, allowed by its hash."""
    return (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src {filter_script_source()}; base-uri 'none'; form-action 'none'"
    )


#: The sections of the pack, in order: (anchor, title, part). The core is what a lead inspector reads; the
#: annex holds the detail behind every line.
CORE_SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview: every indicator against all providers"),
    ("summary", "Summary by standard"),
    ("areas", "Areas of interest"),
    ("data-quality", "Data quality: late, missing and failed submissions"),
)
ANNEX_SECTIONS: tuple[tuple[str, str], ...] = (
    ("annex", "Annex: indicator detail"),
    ("methods", "Methods"),
    ("provenance", "Provenance annex: source batches"),
)


def _contents(sections: list[dict]) -> list[dict]:
    """Every section in reading order, one standard after another in the core; the contents page and sidebar."""
    entries = [{"anchor": a, "title": t, "part": "core"} for a, t in CORE_SECTIONS]
    entries.extend(
        {"anchor": s["anchor"], "title": f"Evidence: {s['section'].standard_id} {s['section'].standard_name}",
         "part": "core"}
        for s in sections
    )  # fmt: skip
    entries.extend({"anchor": a, "title": t, "part": "annex"} for a, t in ANNEX_SECTIONS)
    return entries
