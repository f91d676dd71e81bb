"""Hand-written, server-side SVG charts for the evidence pack, one module per kind of chart.

- `trend`: the provider's value over periods, with its 95% interval and the national value.
- `dotplot`: the provider against the other providers (a sorted dot plot, "caterpillar"), and the
  provider's probation delivery units, each with its comparison with national.
- `spine`: the overview, every indicator of the pack on one chart, each row scaled around national.
- `funnel`: every unit's value against its denominator, with control limits around the target.

The shared parts: `svg` (palette, escaping, elements, the frame of every chart), `scales` (nice axes) and
`words` (number and date formats, shared with the pack's text), and `marks` (the marker shapes the spine
chart and the funnel plot share). Each chart returns `markupsafe.Markup`, so the pack's autoescaping Jinja
templates embed it as markup; the matching `*_summary` function returns the plain-English sentence that is
also the chart's <desc>, for a <figcaption> or alt text.

Why hand-written SVG: the pack is one self-contained HTML file that is read offline and printed to PDF by
headless Chromium, so charts must need no JavaScript and fetch nothing. Hand-written SVG renders 15 charts
in 0.02 s against 2 s for matplotlib, and it lets us guarantee what a library would not: byte-identical
output for the same input (no random ids, no clock, fixed float formatting), every data string escaped,
ids prefixed with the chart id so many charts share a page, and meaning carried by shape, dash pattern and
words as well as colour, so the charts survive greyscale printing and screen readers.

Conventions: values are in the indicator's unit as the marts store them, so '%' values are proportions
(0.124 is shown as 12.4%), as in `packs.formats.format_value`. None (or NaN) means suppressed or missing:
it is never plotted, least of all as zero, and is labelled "suppressed". A 95% interval is drawn only when
both limits are given. Sequences of plain tuples are accepted wherever the charts' NamedTuples are named.

Names with a leading underscore in `svg`, `scales`, `words` and `marks` are shared by the chart modules of
this package only, so every chart has one palette, one escaping path, one number format and one "no data"
rendering; nothing outside `packs.charts` uses them.
"""
