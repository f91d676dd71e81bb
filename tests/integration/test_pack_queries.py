"""Pack queries against a real PostgreSQL: the marts contract in, a PackContext out.

A throwaway database is created per module and dropped at the end, holding just the marts and audit
tables the pack reads (the marts models in dbt_project/models/marts), so the SQL is checked against real types (numeric,
date, timestamptz) without needing dbt. The server comes from the session fixture in tests/conftest.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from psycopg import sql

from probation_evidence import warehouse
from probation_evidence.packs.queries import find_due_inspections, load_pack_context
from probation_evidence.packs.render import render_pack_html

pytestmark = pytest.mark.warehouse

AS_AT = date(2026, 9, 30)

# The marts tables the pack reads, as the marts models build them (tests/integration/test_publish_consistency.py
# puts them in a bootstrapped warehouse, whose audit tables are the real ones).
MARTS_SQL = """
create table marts.dim_provider (provider_id text primary key, provider_name text not null);
create table marts.dim_standard (
    standard_id text primary key, standard_name text not null, standard_statement text not null
);
create table marts.dim_characteristic (
    characteristic_id text primary key, standard_id text not null, rating text not null,
    rating_rank integer not null, paragraph_number integer not null, characteristic_text text not null
);
create table marts.dim_indicator (
    indicator_id text primary key, indicator_name text not null, standard_id text not null,
    definition text, numerator_definition text, denominator_definition text, unit text not null,
    polarity text not null, method text, caveats text, disclosure_rule text
);
create table marts.bridge_indicator_characteristic (
    indicator_characteristic_id text primary key, indicator_id text not null,
    characteristic_id text not null, rating text not null, phrase text not null
);
create table marts.dim_inspection (
    inspection_id text primary key, provider_id text not null, inspection_type text not null,
    fieldwork_start_date date not null, fieldwork_end_date date not null
);
create table marts.fct_indicator_values (
    indicator_value_id text primary key, indicator_id text not null, provider_id text not null,
    pdu_code text, period_end_date date not null, numerator numeric, denominator numeric, value numeric,
    lower_95 numeric, upper_95 numeric, national_value numeric, comparison text,
    indicative_band text, source_batch_ids text, has_late_or_missing_data boolean,
    is_suppressed boolean not null default false, suppression_reason text, lower_998 numeric, upper_998 numeric,
    interval_method text, comparison_998 text, trend text, trend_method text, trend_p_value numeric,
    trend_points integer
);
create table marts.dim_provider_peer (
    provider_peer_id text primary key, provider_id text not null, peer_provider_id text not null,
    peer_rank integer not null, distance numeric not null
);
create table marts.fct_indicator_peer_comparison (
    indicator_peer_comparison_id text primary key, indicator_id text not null, provider_id text not null,
    period_end_date date not null, value numeric, lower_95 numeric, upper_95 numeric, peer_value numeric,
    peer_count integer, peer_comparison text
);
create table marts.fct_funnel_summary (
    funnel_summary_id text primary key, indicator_id text not null, period_end_date date not null,
    unit_level text not null, target_value numeric, is_overdispersed boolean, funnel_method text,
    adjustment_method text
);
create table marts.fct_funnel_limits (
    funnel_limit_id text primary key, indicator_id text not null, period_end_date date not null,
    unit_level text not null, denominator numeric not null, lower_998 numeric, lower_95 numeric, upper_95 numeric,
    upper_998 numeric, adjusted_lower_998 numeric, adjusted_lower_95 numeric, adjusted_upper_95 numeric,
    adjusted_upper_998 numeric
);
create table marts.fct_funnel_points (
    funnel_point_id text primary key, indicator_id text not null, period_end_date date not null,
    unit_level text not null, provider_id text not null, pdu_code text, denominator numeric, value numeric,
    funnel_position text
);
create table marts.dim_disclosure_policy (disclosure_policy_id text primary key, methods_appendix_text text);
create table marts.fct_standard_indicative_ratings (
    standard_rating_id text primary key, provider_id text not null, standard_id text not null,
    mean_points numeric, indicative_rating text, rule_version text
);
"""

SCHEMA_SQL = (
    """
create schema marts;
create schema audit;
"""
    + MARTS_SQL
    + """
create table audit.submissions (
    source text not null, entity text not null, provider_id text not null, period_end_date date not null,
    due_date date not null, status text not null, received_at timestamptz, batch_id text, detail text
);
create table audit.load_batches (
    batch_id text primary key, source text not null, entity text not null, provider_id text not null,
    period_end_date date not null, rows_landed integer, rows_loaded integer, rows_quarantined integer,
    loaded_at timestamptz not null
);
"""
)

PREVIOUS = date(2026, 6, 30)
LOADED = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
STAFF_TEXT = "There are substantial or frequent staff shortages."

# table -> rows, in column order. Two providers; S01 valued for N07 only (this and an earlier period);
# inspections either side of each edge of the lead window; batches for both periods and providers.
SEED: dict[str, list[tuple]] = {
    "marts.dim_provider": [("N07", "London"), ("N01", "North West")],
    "marts.dim_standard": [
        ("1.1", "Leadership", "The leadership of the organisation supports and promotes the delivery."),
        ("1.2", "Staff", "Staff within the organisation are empowered to deliver."),
        ("1.3", "Services", "A comprehensive range of high-quality services is in place."),
        ("1.4", "Information and facilities", "Timely and relevant information is available."),
    ],
    "marts.dim_characteristic": [
        ("1.2-inadequate-02", "1.2", "Inadequate", 0, 2, STAFF_TEXT),
        ("1.2-good-02", "1.2", "Good", 2, 2, "Staffing levels are planned and reviewed."),
    ],
    "marts.dim_indicator": [
        ("S01", "PO vacancy rate", "1.2", "Vacant PO posts", "vacant", "funded", "%", "down", "Wilson", "", "n<10"),
    ],
    "marts.bridge_indicator_characteristic": [
        ("S01|1.2-inadequate-02", "S01", "1.2-inadequate-02", "Inadequate", "substantial or frequent"),
        ("S01|1.2-good-02", "S01", "1.2-good-02", "Good", "Staffing levels are planned"),
    ],
    # then: is_suppressed, suppression_reason, 99.8% limits, interval method, comparison at 99.8%, the trend test
    "marts.fct_indicator_values": [
        ("N07|2026-09-30|S01", "S01", "N07", None, AS_AT, 55.5, 450, 0.1233, 0.0966, 0.1557, 0.08)
        + ("worse", "Inadequate", "b1,b2", True, False, None, 0.0871, 0.1722, "Wilson score", "worse")
        + ("worsening", "chi-square test for trend", 0.0012, 5),
        ("N07|2026-06-30|S01", "S01", "N07", None, PREVIOUS, 10, 450, 0.0222, 0.01, 0.04, 0.08)
        + ("better", "Good", "b0", False, False, None, 0.008, 0.05, "Wilson score", "better", None, None, None, None),
        # a PDU row and a value after the as-at date: neither may reach the provider's pack
        ("N07|N07-01|2026-09-30|S01", "S01", "N07", "N07-01", AS_AT, 1, 10, 0.1, 0.02, 0.4, 0.08)
        + ("similar", "Good", "b1", False, False, None, 0.01, 0.6, "Wilson score", "similar", None, None, None, None),
        ("N07|2026-12-31|S01", "S01", "N07", None, date(2026, 12, 31), 1, 450, 0.0022, 0.0, 0.01, 0.08)
        + (
            "better",
            "Outstanding",
            "b5",
            False,
            False,
            None,
            0.0,
            0.02,
            "Wilson score",
            "better",
            None,
            None,
            None,
            None,
        ),
    ],
    "marts.dim_provider_peer": [("N07|N01", "N07", "N01", 1, 0.75)],
    "marts.fct_indicator_peer_comparison": [
        ("N07|2026-09-30|S01", "S01", "N07", AS_AT, 0.1233, 0.0966, 0.1557, 0.05, 3, "worse"),
    ],
    "marts.fct_funnel_summary": [
        ("S01|2026-09-30|provider", "S01", AS_AT, "provider", 0.08, True, "binomial z", "additive random effects"),
        ("S01|2026-09-30|pdu", "S01", AS_AT, "pdu", 0.08, False, "binomial z", "additive random effects"),
    ],
    # the provider funnel is overdispersed, so its adjusted limits are wider; the PDU funnel's equal its plain ones
    "marts.fct_funnel_limits": [
        ("S01|2026-09-30|provider|1", "S01", AS_AT, "provider", 100, 0.0, 0.03, 0.13, 0.16, 0.0, 0.0, 0.2, 0.25),
        ("S01|2026-09-30|provider|2", "S01", AS_AT, "provider", 450, 0.04, 0.055, 0.105, 0.12, 0.0, 0.02, 0.15, 0.2),
        ("S01|2026-09-30|pdu|1", "S01", AS_AT, "pdu", 10, 0.0, 0.0, 0.25, 0.35, 0.0, 0.0, 0.25, 0.35),
    ],
    "marts.fct_funnel_points": [
        ("N07|2026-09-30|S01", "S01", AS_AT, "provider", "N07", None, 450, 0.1233, "within limits"),
        ("N01|2026-09-30|S01", "S01", AS_AT, "provider", "N01", None, 100, 0.02, "better (95%)"),
        ("N07|N07-01|2026-09-30|S01", "S01", AS_AT, "pdu", "N07", "N07-01", 10, 0.1, "within limits"),
    ],
    "marts.dim_disclosure_policy": [("current", "Counts of 1 to 4 are withheld; published counts are not rounded.")],
    "marts.dim_inspection": [
        ("INS-IN", "N07", "Domain one", AS_AT + timedelta(days=56), AS_AT + timedelta(days=67)),
        # N07's previous inspection: what was known when it began is the baseline for "since then"
        ("INS-PREV", "N07", "Domain one", date(2026, 7, 15), date(2026, 7, 26)),
        ("INS-NEAR", "N01", "Domain one", AS_AT + timedelta(days=1), AS_AT + timedelta(days=12)),
        ("INS-TODAY", "N01", "Domain one", AS_AT, AS_AT + timedelta(days=11)),
        ("INS-LATE", "N07", "Domain one", AS_AT + timedelta(days=57), AS_AT + timedelta(days=68)),
    ],
    "marts.fct_standard_indicative_ratings": [
        ("N07|1.2", "N07", "1.2", 0.0, "Inadequate", "2026.1"),
    ],
    "audit.submissions": [
        ("staffing", "staff", "N07", AS_AT, AS_AT + timedelta(days=7), "late", LOADED + timedelta(days=9), "b2", None),
        ("workload", "weekly_caseload", "N07", date(2026, 9, 27), date(2026, 10, 4), "missing", None, None, None),
        ("staffing", "establishment", "N07", AS_AT, AS_AT + timedelta(days=7), "on_time", LOADED, "b1", None),
        ("staffing", "staff", "N01", AS_AT, AS_AT + timedelta(days=7), "missing", None, None, None),
    ],
    "audit.load_batches": [
        ("b2", "staffing", "staff", "N07", AS_AT, 103, 100, 3, LOADED + timedelta(minutes=5)),
        ("b1", "staffing", "establishment", "N07", AS_AT, 12, 12, 0, LOADED),
        ("b0", "staffing", "staff", "N07", PREVIOUS, 90, 90, 0, LOADED - timedelta(days=92)),
        ("b9", "staffing", "staff", "N01", AS_AT, 80, 80, 0, LOADED),
    ],
}


def _seed(conn) -> None:
    """Create the contract's tables and insert SEED, with identifiers quoted and values bound."""
    with conn.cursor() as cur:
        cur.execute(SCHEMA_SQL)
        for table, rows in SEED.items():
            schema, name = table.split(".")
            statement = sql.SQL("insert into {} values ({})").format(
                sql.Identifier(schema, name), sql.SQL(", ").join([sql.Placeholder()] * len(rows[0]))
            )
            cur.executemany(statement, rows)


@pytest.fixture(scope="module")
def conn(server_url) -> Iterator:
    """A connection to a fresh, seeded database that is dropped when the module's tests finish."""
    name = f"pe_pack_test_{secrets.token_hex(6)}"
    url = warehouse.fresh_database(server_url, name)
    try:
        with psycopg.connect(url.url()) as connection:
            _seed(connection)
            connection.commit()
            yield connection
    finally:
        warehouse.drop_database(server_url, name)


def test_load_pack_context_reads_the_marts(conn):
    ctx = load_pack_context(conn, "INS-IN", AS_AT, pack_version="2")
    assert (ctx.provider_id, ctx.provider_name, ctx.inspection_type) == ("N07", "London", "Domain one")
    assert ctx.fieldwork_start_date == AS_AT + timedelta(days=56)
    assert (ctx.as_at_date, ctx.pack_version) == (AS_AT, "2")
    assert [s.standard_id for s in ctx.standards] == ["1.1", "1.2", "1.3", "1.4"]
    assert [len(s.evidence) for s in ctx.standards] == [0, 1, 0, 0]

    line = ctx.standards[1].evidence[0]
    assert line.indicator_id == "S01" and line.unit == "%" and line.polarity == "down"
    assert line.value == pytest.approx(0.1233)  # the as-at period, not the earlier one
    assert (line.numerator, line.denominator) == (55.5, 450.0)
    assert (line.comparison, line.indicative_band) == ("worse", "Inadequate")
    # Best rating first, as the framework reads.
    assert [c.characteristic_id for c in line.characteristics] == ["1.2-good-02", "1.2-inadequate-02"]
    assert line.characteristics[1].phrase == "substantial or frequent"

    # Every batch of the year to the as-at date (the periods behind the values), by source and entity.
    assert [(b.batch_id, b.rows_loaded, b.rows_quarantined) for b in ctx.batches] == [
        ("b1", 12, 0),
        ("b0", 90, 0),
        ("b2", 100, 3),
    ]
    assert ctx.batches[0].loaded_at == datetime(2026, 10, 1, 6, tzinfo=UTC)

    # The roll-up per standard, and the provider's late and missing submissions, missing first.
    assert [(s.standard_id, s.indicative_rating) for s in ctx.standards if s.indicative_rating] == [
        ("1.2", "Inadequate")
    ]
    assert ctx.standards[1].rule_version == "2026.1" and ctx.standards[1].mean_points == 0.0
    assert [(i.status, i.entity) for i in ctx.submission_issues] == [("missing", "weekly_caseload"), ("late", "staff")]
    assert (line.method, line.disclosure_rule, line.period_end_date) == ("Wilson", "n<10", AS_AT)
    assert line.has_late_or_missing_data is True
    assert [p.period_end_date for p in line.trend] == [PREVIOUS, AS_AT]  # not the value after the as-at date
    assert [(p.provider_id, p.value) for p in line.peers] == [("N07", pytest.approx(0.1233))]
    assert [(p.pdu_code, p.comparison) for p in line.pdus] == [("N07-01", "similar")]


def test_each_line_carries_its_comparators_from_the_marts(conn):
    ctx = load_pack_context(conn, "INS-IN", AS_AT)
    line = ctx.standards[1].evidence[0]
    assert (line.lower_998, line.upper_998, line.comparison_998) == (0.0871, 0.1722, "worse")
    assert (line.interval_method, line.trend_direction, line.trend_points) == ("Wilson score", "worsening", 5)
    assert (line.trend_p_value, line.trend_method) == (0.0012, "chi-square test for trend")
    assert (line.peer_value, line.peer_count, line.peer_comparison) == (0.05, 3, "worse")
    assert [(p.provider_id, p.provider_name, p.rank, p.distance) for p in ctx.peer_group] == [
        ("N01", "North West", 1, 0.75)
    ]
    # Since the previous inspection (fieldwork from 15 July): June's 2.2% lies below September's interval,
    # and for a vacancy rate (polarity down) that is a worsening.
    assert line.previous is not None
    assert (line.previous.inspection_id, line.previous.period_end_date) == ("INS-PREV", PREVIOUS)
    assert (line.previous.value, line.previous.change) == (0.0222, "worsened")
    # The provider funnel is overdispersed: the adjusted limits are the ones drawn. The PDU funnel is not.
    assert line.funnel is not None and line.funnel.is_overdispersed is True and line.funnel.target == 0.08
    assert [(lim.denominator, lim.lower_95, lim.upper_95) for lim in line.funnel.limits] == [
        (100.0, 0.0, 0.2),
        (450.0, 0.02, 0.15),
    ]
    assert [(p.unit_id, p.label, p.is_focus, p.provider_id) for p in line.funnel.points] == [
        ("N01", "North West", False, "N01"),
        ("N07", "London", True, "N07"),
    ]
    assert line.pdu_funnel is not None and line.pdu_funnel.is_overdispersed is False
    assert [(lim.lower_95, lim.upper_95) for lim in line.pdu_funnel.limits] == [(0.0, 0.25)]
    assert [(p.unit_id, p.is_focus) for p in line.pdu_funnel.points] == [("N07-01", True)]
    assert ctx.disclosure_note.startswith("Counts of 1 to 4 are withheld")


def test_a_provider_with_no_earlier_inspection_has_no_change_since(conn):
    ctx = load_pack_context(conn, "INS-NEAR", AS_AT)
    assert all(line.previous is None for s in ctx.standards for line in s.evidence)
    assert ctx.peer_group == ()


def test_indicator_without_a_value_is_still_listed(conn):
    ctx = load_pack_context(conn, "INS-NEAR", AS_AT)  # N01 has no S01 value
    line = ctx.standards[1].evidence[0]
    assert line.indicator_id == "S01" and line.value is None and line.indicative_band is None
    assert [b.batch_id for b in ctx.batches] == ["b9"]


def test_loaded_context_renders(conn):
    html = render_pack_html(load_pack_context(conn, "INS-IN", AS_AT))
    assert "12.3%" in html and "<mark>substantial or frequent</mark>" in html


def test_unknown_inspection_raises_lookup_error_naming_it(conn):
    with pytest.raises(LookupError, match="INS-NOPE"):
        load_pack_context(conn, "INS-NOPE", AS_AT)


def test_find_due_inspections_window_edges(conn):
    due = find_due_inspections(conn, AS_AT)
    # as_at itself is out, as_at + 1 and as_at + 56 are in, as_at + 57 is out; ordered by start date.
    assert [d["inspection_id"] for d in due] == ["INS-NEAR", "INS-IN"]
    assert due[0]["fieldwork_start_date"] == AS_AT + timedelta(days=1)
    assert set(due[0]) >= {"inspection_id", "provider_id", "fieldwork_start_date", "fieldwork_end_date"}
    assert [d["inspection_id"] for d in find_due_inspections(conn, AS_AT, lead_days=57)][-1] == "INS-LATE"
    assert find_due_inspections(conn, AS_AT, lead_days=0) == []
