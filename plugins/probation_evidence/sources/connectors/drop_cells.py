"""What every drop-file reader shares: the error naming a file that cannot be read, cell values as the text
the loader parses, and the mapping of a file's headers to contract field names."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from probation_evidence.sources.contracts.base import Contract, normalise_header


class FileDropError(Exception):
    """A dropped file that cannot be read at all; its message names the file and says why."""

    def __init__(self, path: Path | str, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def size_text(count: int) -> str:
    """A byte count for people: '3.5 MiB (3,670,016 bytes)'."""
    scaled, unit = float(count), "bytes"
    for larger in ("KiB", "MiB", "GiB"):
        if scaled < 1024:
            break
        scaled, unit = scaled / 1024, larger
    return f"{count:,} bytes" if unit == "bytes" else f"{scaled:,.1f} {unit} ({count:,} bytes)"


def format_number(value: float | int | Decimal) -> str:
    """Plain text of a number: whole floats without '.0' (as Arrow casts them), others shortest round-trip."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def render_cell(value: object, kind: str | None = None) -> str | None:
    """A spreadsheet cell as the text the loader parses: ISO dates, plain numbers, true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if kind != "timestamp" and value.tzinfo is None and value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return format_number(value)
    text = str(value)
    return text if text != "" else None


def header_lookup(contract: Contract) -> dict[str, str]:
    """normalised header -> contract field name, over every field's name and aliases."""
    lookup: dict[str, str] = {}
    for f in contract.fields:
        for label in (f.name, *f.aliases):
            lookup.setdefault(normalise_header(label), f.name)
    return lookup


def map_headers(headers: list[str], contract: Contract, path: Path) -> list[str]:
    """Contract field names for the file's headers; unknown headers keep their own (trimmed) name."""
    lookup = header_lookup(contract)
    names: list[str] = []
    origin: dict[str, str] = {}
    for header in headers:
        clean = (header or "").strip().lstrip("\ufeff").strip()
        name = lookup.get(normalise_header(clean), clean)
        if name in origin:
            raise FileDropError(path, f"columns {origin[name]!r} and {clean!r} both map to field {name!r}")
        origin[name] = clean
        names.append(name)
    return names


def field_kinds(names: list[str], contract: Contract) -> list[str | None]:
    kinds = {f.name: f.kind for f in contract.fields}
    return [kinds.get(name) for name in names]
