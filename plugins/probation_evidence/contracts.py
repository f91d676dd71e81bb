"""Source contracts: what each entity a provider sends must look like before it reaches `raw`.

A contract is data (fields, types, rules), so the loader, the raw-table DDL and the docs are all derived
from the same place. Bump `version` when a change is not backwards compatible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GRADES = ("PO", "PSO", "SPO", "PQiP")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | numeric | date | integer
    required: bool = True
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    description: str = ""

    @property
    def pg_type(self) -> str:
        return {"text": "text", "numeric": "numeric", "date": "date", "integer": "integer"}[self.kind]


@dataclass(frozen=True)
class Contract:
    source: str
    entity: str
    version: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    description: str = ""
    #: Cross-field rules the loader applies, by name (see loading._cross_field_checks).
    rules: tuple[str, ...] = field(default=())

    @property
    def table(self) -> str:
        return f"{self.source}_{self.entity}"

    @property
    def qualified_table(self) -> str:
        return f"raw.{self.table}"

    @property
    def column_names(self) -> list[str]:
        return [f.name for f in self.fields]


#: Load metadata columns on every raw table; the leading underscore marks them as ours, not the source's.
METADATA_COLUMNS = (
    ("_batch_id", "text not null"),
    ("_loaded_at", "timestamptz not null"),
    ("_source_file", "text not null"),
    ("_row_number", "integer not null"),
)

STAFFING_ESTABLISHMENT = Contract(
    source="staffing",
    entity="establishment",
    version="1.0",
    description="Funded posts (FTE) by probation delivery unit and grade, as at a date.",
    key=("provider_id", "pdu_code", "grade", "as_at_date"),
    fields=(
        Field("provider_id", "text", description="Region code of the provider (e.g. N07)."),
        Field("pdu_code", "text", description="Probation delivery unit code, within the provider."),
        Field("grade", "text", allowed=GRADES, description="Practitioner grade."),
        Field("funded_fte", "numeric", minimum=0, maximum=2000, description="Funded full-time equivalent."),
        Field("as_at_date", "date", description="Date the establishment figures describe."),
    ),
    rules=("provider_matches_slice", "pdu_belongs_to_provider", "as_at_matches_slice", "unique_key"),
)

STAFFING_STAFF = Contract(
    source="staffing",
    entity="staff",
    version="1.0",
    description="Staff in post during the 12 months to the as-at date, pseudonymised.",
    key=("staff_id", "as_at_date"),
    fields=(
        Field("staff_id", "text", description="Pseudonymised staff identifier; never a name."),
        Field("provider_id", "text", description="Region code of the provider."),
        Field("pdu_code", "text", description="Probation delivery unit code."),
        Field("team_code", "text", required=False, description="Team within the PDU."),
        Field("grade", "text", allowed=GRADES, description="Practitioner grade."),
        Field("fte", "numeric", minimum=0, maximum=1, min_exclusive=True, description="Contracted FTE."),
        Field("start_date", "date", description="Start in post."),
        Field("leave_date", "date", required=False, description="Leaving date, if left."),
        Field("as_at_date", "date", description="Date of the extract."),
    ),
    rules=(
        "provider_matches_slice",
        "pdu_belongs_to_provider",
        "as_at_matches_slice",
        "start_not_after_as_at",
        "leave_not_before_start",
        "unique_key",
    ),
)

CONTRACTS: dict[tuple[str, str], Contract] = {(c.source, c.entity): c for c in (STAFFING_ESTABLISHMENT, STAFFING_STAFF)}


def get_contract(source: str, entity: str) -> Contract:
    try:
        return CONTRACTS[(source, entity)]
    except KeyError:
        raise KeyError(f"no source contract for {source}.{entity}") from None


def create_table_sql(contract: Contract) -> str:
    """DDL for the raw table of a contract: source columns as text-typed by contract, then metadata."""
    columns = [f"    {f.name} {f.pg_type}" for f in contract.fields]
    columns += [f"    {name} {ddl}" for name, ddl in METADATA_COLUMNS]
    return f"create table if not exists {contract.qualified_table} (\n" + ",\n".join(columns) + "\n)"
