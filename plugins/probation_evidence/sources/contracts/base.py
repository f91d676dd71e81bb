"""The shape of a source contract: what one entity a provider sends must look like before it reaches `raw`.

A contract is data (fields, types, rules), so the loader's validation, the raw-table DDL and
`docs/sources.md` all derive from the same place. Bump `version` when a change is not backwards compatible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("text", "numeric", "integer", "date", "timestamp", "boolean")
PG_TYPES = {
    "text": "text",
    # The loader validates numbers as float64, so raw keeps them as float8: nothing is lost, and binary COPY
    # sends them as they are (encoding PostgreSQL's decimal `numeric` would be the loader's largest cost).
    # Staging casts to exact numeric(p, s).
    "numeric": "double precision",
    "integer": "integer",
    "date": "date",
    "timestamp": "timestamptz",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # one of KINDS
    description: str = ""
    required: bool = True
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    #: "provider": must be the provider of the file; "pdu": a PDU of that provider.
    references: str | None = None
    #: Header spellings seen in provider files, besides the name itself (matched case- and punctuation-blind).
    aliases: tuple[str, ...] = ()
    #: A date or timestamp that cannot be after the period the file describes.
    not_after_period: bool = False
    #: The field that must equal the file's period (a snapshot's as-at date).
    is_period: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"field {self.name}: unknown kind {self.kind}")

    @property
    def pg_type(self) -> str:
        return PG_TYPES[self.kind]


@dataclass(frozen=True)
class Contract:
    source: str
    entity: str
    version: str
    description: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    #: "api" (a provider REST API) or "file" (a file drop).
    transport: str
    #: How often a provider submits: "snapshot" per run, "weekly", "monthly", "quarterly".
    frequency: str = "snapshot"
    #: (earlier, later) pairs of date fields: `later` may be null, but never before `earlier`.
    date_order: tuple[tuple[str, str], ...] = ()
    #: A submission is late when it arrives more than this many days after its period ends.
    due_days: int = 7

    @property
    def table(self) -> str:
        return f"{self.source}_{self.entity}"

    @property
    def qualified_table(self) -> str:
        return f"raw.{self.table}"

    @property
    def column_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.source}.{self.entity} has no field {name}")


#: Fields every family shares, one definition each (aliases are the header spellings file drops use).
PROVIDER = Field(
    "provider_id",
    "text",
    "Region code of the provider (e.g. N07).",
    references="provider",
    aliases=("Region", "Region Code", "Provider"),
)
PDU = Field(
    "pdu_code",
    "text",
    "Probation delivery unit code, within the provider.",
    references="pdu",
    aliases=("PDU", "PDU Code", "Delivery Unit"),
)

#: The staff grades every family that describes staff uses.
GRADES = ("PO", "PSO", "SPO", "PQiP")

AS_AT = Field("as_at_date", "date", "Date the extract describes.", is_period=True)
STAFF_ID = Field("staff_id", "text", "Pseudonymised staff identifier; never a name.")

#: Load metadata columns on every raw table; the leading underscore marks them as ours, not the source's.
METADATA_COLUMNS = (
    ("_batch_id", "text not null"),
    ("_loaded_at", "timestamptz not null"),
    ("_source_file", "text not null"),
    ("_row_number", "integer not null"),
)


def normalise_header(name: str) -> str:
    """'Staff ID', 'staff_id' and 'StaffId' all become 'staffid'."""
    return re.sub(r"[^a-z0-9]", "", name.strip().lstrip("\ufeff").lower())


def create_table_sql(contract: Contract) -> str:
    """DDL for the raw table of a contract: the source's columns as the contract types them, then metadata."""
    columns = [f"    {f.name} {f.pg_type}" for f in contract.fields]
    columns += [f"    {name} {ddl}" for name, ddl in METADATA_COLUMNS]
    return f"create table if not exists {contract.qualified_table} (\n" + ",\n".join(columns) + "\n)"


#: Frequencies whose raw tables grow without bound (a weekly return adds ~20k rows a week nationally).
#: Their tables are indexed by batch: replacing a slice, and reading the batches an incremental model needs,
#: then touch those batches' rows only, never the whole history.
GROWING_FREQUENCIES = frozenset({"weekly"})


def batch_index_name(contract: Contract) -> str | None:
    return f"{contract.table}_batch_id_idx" if contract.frequency in GROWING_FREQUENCIES else None


def create_index_sql(contract: Contract) -> str | None:
    """DDL of the raw table's index on `_batch_id`, for contracts whose tables grow without bound; else None."""
    name = batch_index_name(contract)
    return f"create index if not exists {name} on {contract.qualified_table} (_batch_id)" if name else None
