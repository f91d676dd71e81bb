"""Evidence packs: one self-contained HTML pack per inspected provider, ahead of fieldwork.

- `packs.model`: the pack content as frozen dataclasses (PackContext and its parts).
- `packs.queries`: `load_pack_context`, `find_due_inspections` read the marts with psycopg 3.
- `packs.render`: `render_pack_html`, `write_pack` turn a PackContext into deterministic HTML.

Nothing is imported here: DAG files import this package at parse time, and the project bans heavy
module-level imports (ruff TID253), so callers import the submodule they need inside their task.
"""
