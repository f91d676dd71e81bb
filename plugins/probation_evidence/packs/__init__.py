"""Evidence packs: one self-contained HTML pack per inspected provider, ahead of fieldwork.

- `packs.model`: the pack content as frozen dataclasses (PackContext and its parts).
- `packs.queries` and `packs.comparators`: `load_pack_context`, `find_due_inspections` read the marts with
  psycopg 3 (statements in `packs/sql`).
- `packs.render`: `render_pack_html`, `write_pack` turn a PackContext into deterministic HTML, with the
  view in `packs.views`, the charts and their data tables in `packs.figures` (SVG from `packs.charts`) and
  the words for numbers in `packs.formats`; `packs.export` writes every number as CSV.
- `packs.publish` and `packs.approval`: recording versions and writing the files, directly or after a
  planner's approval; `packs.browser` prints the PDF.
"""
