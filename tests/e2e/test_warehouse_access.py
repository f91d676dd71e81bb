# Over 450 lines: every role's grants and refusals over one set of real logins.
"""Who can read and write what, on the built warehouse, as real logins over TCP.

For each group role the bootstrap creates, the test makes a login user in it (with a password), connects
over TCP as that user and tries each read and write: what the role is for must work, everything else
must be refused. The provider-scoped login must see only its own provider's rows in every mart, through
row-level security, even when it also holds bi_reader. Then, the disclosure control: no mart, read as
bi_reader, shows a count the indicator catalogue says is too small to publish, and no suppressed value
is blanked without its flag.
"""

from __future__ import annotations

import secrets
from collections.abc import Generator, Iterator
from contextlib import contextmanager

import psycopg
import pytest

from probation_evidence import warehouse
from tests.privileges import can, readable

#: Marts that name another provider on a provider's own rows: no provider-scoped or BI login reads them.
PLANNERS_ONLY = {"marts.dim_provider_peer"}

pytestmark = [pytest.mark.warehouse, pytest.mark.airflow, pytest.mark.slow]

SCOPED_PROVIDER = "N03"
SUFFIX = secrets.token_hex(3)


@pytest.fixture(scope="module")
def logins(pipeline_state, warehouse_url) -> Iterator[dict[str, warehouse.WarehouseUrl]]:
    """A login user per role, each with its own password; dropped at the end."""
    scope_role = f"pe_test_scope_{SUFFIX}"
    grants = {
        "loader": ["warehouse_loader"],
        "transformer": ["warehouse_transformer"],
        "publisher": ["warehouse_publisher"],
        "bi": ["bi_reader"],
        "planner": ["planner_reader"],
        "provider": [scope_role],
        "provider_and_bi": [scope_role, "bi_reader"],
        "unscoped_provider": ["provider_reader"],
    }
    urls = {}
    with psycopg.connect(warehouse_url.url(), autocommit=True) as admin:
        admin.execute("select security.scope_role_to_provider(%s, %s)", [scope_role, SCOPED_PROVIDER])
        for key, roles in grants.items():
            user, password = f"pe_test_{key}_{SUFFIX}", secrets.token_urlsafe(16)
            admin.execute(
                psycopg.sql.SQL("create role {} login password {} in role {}").format(
                    psycopg.sql.Identifier(user),
                    psycopg.sql.Literal(password),
                    psycopg.sql.SQL(", ").join(psycopg.sql.Identifier(r) for r in roles),
                )
            )
            urls[key] = warehouse.WarehouseUrl(
                warehouse_url.host, warehouse_url.port, user, password, warehouse_url.dbname
            )
    yield urls
    with psycopg.connect(warehouse_url.url(), autocommit=True) as admin:
        admin.execute("delete from security.provider_scopes where role_name = %s", [scope_role])
        for url in urls.values():
            admin.execute(psycopg.sql.SQL("drop role {}").format(psycopg.sql.Identifier(url.user)))
        admin.execute(psycopg.sql.SQL("drop role {}").format(psycopg.sql.Identifier(scope_role)))


@contextmanager
def connected(url: warehouse.WarehouseUrl) -> Generator[psycopg.Connection]:
    """A TCP connection as the login; everything it does is rolled back."""
    assert url.host in {"127.0.0.1", "localhost"}, "the tests connect over TCP"
    with psycopg.connect(url.url()) as conn:
        assert conn.execute("select current_user, inet_server_addr() is not null").fetchone() == (url.user, True)
        yield conn
        conn.rollback()


def tables(conn: psycopg.Connection, schema: str) -> list[str]:
    return [
        f"{schema}.{name}"
        for (name,) in conn.execute(
            "select tablename from pg_tables where schemaname = %s order by 1", [schema]
        ).fetchall()
    ]


@pytest.fixture(scope="module")
def catalog(pipeline_state, warehouse_url) -> dict[str, list[str]]:
    with psycopg.connect(warehouse_url.url()) as conn:
        found = {s: tables(conn, s) for s in ("raw", "staging", "intermediate", "marts", "audit", "security")}
        found["staging"] += [
            f"staging.{name}"
            for (name,) in conn.execute("select viewname from pg_views where schemaname = 'staging'").fetchall()
        ]
    assert all(found[s] for s in ("raw", "staging", "marts", "audit", "security")), found
    return found


def test_bi_reader_reads_every_mart_and_nothing_else(logins, catalog):
    with connected(logins["bi"]) as conn:
        for_bi = [t for t in catalog["marts"] if t not in PLANNERS_ONLY]
        assert readable(conn, catalog["marts"]) == for_bi
        for schema in ("raw", "staging", "intermediate", "audit", "security"):
            seen = readable(conn, catalog[schema])
            assert not seen, f"bi_reader reads {seen}"
        assert not can(conn, "delete from marts.fct_indicator_values")
        assert not can(conn, "update marts.dim_provider set provider_name = 'x'")
        assert not can(conn, "insert into marts.evidence_pack_values (publication_id) values ('x')")
        assert not can(conn, "truncate marts.dim_indicator")
        for schema in ("marts", "public", "raw", "audit"):
            assert not can(conn, f"create table {schema}.intruder (x int)")


def test_planner_reads_marts_and_audit_but_not_raw_values(logins, catalog):
    with connected(logins["planner"]) as conn:
        assert readable(conn, catalog["marts"]) == catalog["marts"]
        for table in ("audit.load_batches", "audit.submissions", "audit.pack_publications"):
            assert can(conn, f"select * from {table} limit 1")  # noqa: S608
        # Quarantined rows: why, where, which field; not the raw values, which may hold identifiers.
        assert can(conn, "select batch_id, row_number, source_file, field, reason from audit.quarantine")
        assert not can(conn, "select original_values from audit.quarantine")
        for schema in ("raw", "staging", "intermediate", "security"):
            seen = readable(conn, catalog[schema])
            assert not seen, f"planner_reader reads {seen}"
        assert not can(conn, "delete from audit.pack_publications")
        assert not can(conn, "update audit.submissions set status = 'on_time'")
        assert not can(conn, "delete from marts.fct_indicator_values")


def _provider_tables(conn) -> list[str]:
    return [
        f"marts.{name}"
        for (name,) in conn.execute(
            "select table_name from information_schema.columns"
            " where table_schema = 'marts' and column_name = 'provider_id' order by 1"
        ).fetchall()
    ]


def test_every_mart_with_a_provider_has_row_level_security(pipeline_state, warehouse_url):
    with psycopg.connect(warehouse_url.url()) as conn:
        provider_tables = _provider_tables(conn)
        assert "marts.fct_indicator_values" in provider_tables and "marts.evidence_pack_values" in provider_tables
        for table in provider_tables:
            enabled = conn.execute("select relrowsecurity from pg_class where oid = %s::regclass", [table]).fetchone()
            policies = conn.execute(
                "select policyname, permissive, roles::text[] from pg_policies"
                " where schemaname = 'marts' and tablename = %s order by 1",
                [table.split(".")[1]],
            ).fetchall()
            assert enabled == (True,), table
            # The frozen pack values also keep a scoped reader to its own provider's packs.
            own_packs = [("own_packs_only", "RESTRICTIVE", ["provider_reader"])] * (
                table == "marts.evidence_pack_values"
            )
            assert policies == [
                ("every_row", "PERMISSIVE", ["public"]),
                *own_packs,
                ("own_provider_only", "RESTRICTIVE", ["provider_reader"]),
            ], table


@pytest.mark.parametrize("login", ["provider", "provider_and_bi"])
def test_a_provider_login_sees_only_its_own_provider_in_every_mart(logins, warehouse_url, login):
    with psycopg.connect(warehouse_url.url()) as admin:
        provider_tables = _provider_tables(admin)
        expected = {
            t: admin.execute(f"select count(*) from {t} where provider_id = %s", [SCOPED_PROVIDER]).fetchone()[0]  # noqa: S608
            for t in provider_tables
        }
        # Frozen pack values: the provider's own figures in its own packs (its figures in the comparison
        # charts of other providers' packs stay with those packs).
        expected["marts.evidence_pack_values"] = admin.execute(
            "select count(*) from marts.evidence_pack_values where provider_id = %s and pack_provider_id = %s",
            [SCOPED_PROVIDER, SCOPED_PROVIDER],
        ).fetchone()[0]
        everyone = {
            t: admin.execute(f"select count(distinct provider_id) from {t}").fetchone()[0] for t in provider_tables
        }  # noqa: S608
    assert expected["marts.fct_indicator_values"] > 100 and expected["marts.evidence_pack_values"] > 100
    assert everyone["marts.fct_indicator_values"] == 12
    with connected(logins[login]) as conn:
        for table in provider_tables:
            if table in PLANNERS_ONLY:
                assert not can(conn, f"select * from {table}"), f"{login} reads {table}"  # noqa: S608
                continue
            seen = conn.execute(f"select provider_id, count(*) from {table} group by 1").fetchall()  # noqa: S608
            assert seen == [(SCOPED_PROVIDER, expected[table])], table
        # Reference marts without a provider are whole; other providers' rows are not there to find.
        assert conn.execute("select count(*) from marts.dim_indicator").fetchone()[0] == 47
        assert conn.execute(
            "select count(*) from marts.fct_indicator_values where provider_id <> %s", [SCOPED_PROVIDER]
        ).fetchone() == (0,)
        assert conn.execute("select role_name from security.provider_scopes").fetchall() == [
            (f"pe_test_scope_{SUFFIX}",)
        ]
        assert not can(conn, "select * from audit.submissions")
        assert not can(conn, "select * from raw.staffing_establishment")


def _other_provider_mentions(conn, providers: list[str]) -> dict[str, int]:
    """Per marts column the login can read: rows whose text names another provider (N07, N07-01, N07|...)."""
    others = "|".join(p for p in providers if p != SCOPED_PROVIDER)
    pattern = f"(^|[^A-Za-z0-9])({others})([^0-9]|$)"
    columns = conn.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
        " and data_type in ('text', 'character varying') order by 1, 2"
    ).fetchall()
    found = {}
    for table, column in columns:
        (count,) = conn.execute(
            psycopg.sql.SQL("select count(*) from {} where {} ~ %s").format(
                psycopg.sql.Identifier("marts", table), psycopg.sql.Identifier(column)
            ),
            [pattern],
        ).fetchone()
        if count:
            found[f"marts.{table}.{column}"] = count
    return found


@pytest.mark.parametrize("login", ["provider", "provider_and_bi"])
def test_a_provider_login_sees_no_other_providers_figures_anywhere_in_the_marts(logins, warehouse_url, login):
    """Not in any mart, and not in the frozen values of its own packs' comparison charts."""
    with psycopg.connect(warehouse_url.url()) as admin:
        providers = [row[0] for row in admin.execute("select provider_id from marts.dim_provider").fetchall()]
        # The scoped provider's own packs show every other provider's value, and the admin sees them all.
        comparisons = admin.execute(
            "select count(distinct subject), count(distinct provider_id) from marts.evidence_pack_values"
            " where pack_provider_id = %s and record_type = 'provider_comparison'",
            [SCOPED_PROVIDER],
        ).fetchone()
        assert _other_provider_mentions(admin, providers), "the admin sees other providers' rows"
    assert len(providers) == 12 and comparisons == (12, 12)
    with connected(logins[login]) as conn:
        assert _other_provider_mentions(conn, providers) == {}
        shown = conn.execute(
            "select record_type, provider_id, pack_provider_id, subject, count(*) from marts.evidence_pack_values"
            " where record_type in ('provider_comparison', 'indicator_value') group by 1, 2, 3, 4 order by 1, 4"
        ).fetchall()
        assert [row[:4] for row in shown] == [
            ("indicator_value", SCOPED_PROVIDER, SCOPED_PROVIDER, SCOPED_PROVIDER),
            ("provider_comparison", SCOPED_PROVIDER, SCOPED_PROVIDER, SCOPED_PROVIDER),
        ]
        # National aggregates are not one provider's figures: they stay in its pack.
        assert (
            conn.execute("select count(*) from marts.evidence_pack_values where national_value is not null").fetchone()[
                0
            ]
            > 0
        )


def test_a_provider_login_without_a_scope_sees_no_provider_rows(logins):
    with connected(logins["unscoped_provider"]) as conn:
        assert conn.execute("select count(*) from marts.fct_indicator_values").fetchone() == (0,)
        assert conn.execute("select count(*) from marts.dim_indicator").fetchone()[0] == 47


def test_the_loader_writes_raw_and_load_bookkeeping_only(logins, catalog):
    with connected(logins["loader"]) as conn:
        conn.execute("set role warehouse_loader")
        assert can(conn, "create table raw.access_probe (x int)")
        assert can(conn, "select count(*) from audit.load_batches")
        assert can(conn, "delete from audit.submissions where false")
        for schema in ("staging", "intermediate", "marts", "public"):
            assert not can(conn, f"create table {schema}.access_probe (x int)")
        for schema in ("marts", "intermediate", "security"):
            seen = readable(conn, catalog[schema])
            assert not seen, f"the loader reads {seen}"
        assert not can(conn, "select * from audit.pack_publications")


def test_the_transformer_reads_raw_builds_marts_and_cannot_touch_loads_or_packs(logins, catalog):
    with connected(logins["transformer"]) as conn:
        conn.execute("set role warehouse_transformer")
        assert readable(conn, catalog["raw"]) == catalog["raw"]
        assert can(conn, "create table marts.access_probe (x int)")
        assert can(conn, "create table intermediate.access_probe (x int)")
        assert not can(conn, f"insert into {catalog['raw'][0]} default values")
        assert not can(conn, "delete from audit.load_batches")
        assert not can(conn, "insert into audit.pack_publications (publication_id) values ('x')")
        assert not can(conn, "delete from marts.evidence_pack_values")
        assert not can(conn, "create table raw.access_probe (x int)")
        assert not can(conn, "insert into security.provider_scopes values ('x', 'N03')")


def test_the_publisher_reads_marts_and_records_publications_but_rewrites_none(logins, catalog):
    with connected(logins["publisher"]) as conn:
        conn.execute("set role warehouse_publisher")
        assert readable(conn, catalog["marts"]) == catalog["marts"]
        assert can(conn, "select * from audit.submissions limit 1")
        assert not can(conn, "update audit.pack_publications set reason = 'requested'")
        assert not can(conn, "delete from marts.evidence_pack_values")
        assert not can(conn, "delete from marts.fct_indicator_values")
        assert not readable(conn, catalog["raw"])


# -- disclosure control --------------------------------------------------------------------------------

# Every number-bearing column of every mart is one of these; a new one fails the test until someone says
# what it is. "count" columns are checked against the catalogue's rule wherever the row names an
# indicator; "derived" columns must be null whenever the row is flagged suppressed.
COUNT_COLUMNS = {"numerator", "denominator"}
DERIVED_COLUMNS = {
    "value", "lower_95", "upper_95", "lower_998", "upper_998", "comparator_quintile",
}  # fmt: skip
NOT_COUNTS_OF_PEOPLE = {
    "national_value": "pooled over every provider",
    "regional_value": "the provider's own value, null when that is suppressed",
    "mean_points": "mean of band points across a standard's indicators",
    "indicator_count": "number of indicators in a standard",
    "banded_count": "number of indicators with a band",
    "outstanding_count": "indicators in a band",
    "good_count": "indicators in a band",
    "requires_improvement_count": "indicators in a band",
    "inadequate_count": "indicators in a band",
    "row_number": "position of a row in its pack",
    "rows_loaded": "rows of a source file (source_batch records)",
    "rows_quarantined": "rows of a source file (source_batch records)",
    "rating_rank": "framework ordering",
    "paragraph_number": "framework ordering",
    "minimum_denominator": "catalogue metadata",
    "lower_bound": "band threshold",
    "upper_bound": "band threshold",
    "trend_p_value": "a test over shown values only, blanked with the row",
    "trend_points": "number of shown periods the trend test used",
    "target_value": "the national value a funnel is drawn around",
    "unit_count": "number of providers or PDUs in a funnel",
    "min_denominator": "smallest denominator among a funnel's shown rows",
    "max_denominator": "largest denominator among a funnel's shown rows",
    "winsor_lower_z": "funnel statistic over shown rows",
    "winsor_upper_z": "funnel statistic over shown rows",
    "phi": "funnel statistic over shown rows",
    "chi_square_statistic": "funnel statistic over shown rows",
    "degrees_of_freedom": "funnel statistic over shown rows",
    "critical_value": "funnel statistic over shown rows",
    "tau_squared": "funnel statistic over shown rows",
    "applied_tau_squared": "funnel statistic over shown rows",
    "grid_step": "position on a funnel's grid of denominators",
    "adjusted_lower_95": "control limit around the national value",
    "adjusted_upper_95": "control limit around the national value",
    "adjusted_lower_998": "control limit around the national value",
    "adjusted_upper_998": "control limit around the national value",
    "z_score": "a shown row's distance from the national value",
    "adjusted_z_score": "a shown row's distance from the national value",
    "distance": "between two providers' standardised context measures",
    "peer_rank": "order of a provider's statistical neighbours",
    "peer_value": "pooled over at least peer_minimum_count peers' shown rows",
    "peer_count": "number of peers with a shown value",
    "mean_weekly_active_cases": "provider context measure (caseload size)",
    "high_tier_case_proportion": "provider context measure (caseload mix)",
    "establishment_fte": "provider context measure (funded FTE)",
    "pdu_count": "provider context measure (number of PDUs)",
    "published_count_rounding_base": "disclosure policy setting",
}
#: Marts whose rows each stand for one row of marts.fct_indicator_values (the key column holding its
#: indicator_value_id) and that read shown rows only: no suppressed row may reach them with a number.
DRAWN_FROM_VALUE_ROWS = {
    "fct_funnel_points": "funnel_point_id",
    "fct_indicator_peer_comparison": "indicator_peer_comparison_id",
}
#: Marts whose numbers describe no provider or PDU: control limits drawn around the national value.
ABOUT_NO_UNIT = {"fct_funnel_limits": "limits at grid denominators between a funnel's shown rows' smallest and largest"}
NUMBER_TYPES = {"numeric", "integer", "bigint", "smallint", "double precision", "real"}


def test_every_number_in_the_marts_is_classified_for_disclosure(pipeline_state, warehouse_url):
    with psycopg.connect(warehouse_url.url()) as conn:
        numbers = conn.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'marts' and data_type = any(%s)",
            [list(NUMBER_TYPES)],
        ).fetchall()
    known = COUNT_COLUMNS | DERIVED_COLUMNS | set(NOT_COUNTS_OF_PEOPLE)
    assert not [f"{t}.{c}" for t, c in numbers if c not in known], "classify these columns for disclosure"


def test_no_small_count_leaks_through_any_mart(logins, warehouse_url):
    with psycopg.connect(warehouse_url.url()) as admin:
        rules = dict(
            (r[0], (r[1], r[2]))
            for r in admin.execute(
                "select indicator_id, minimum_denominator, is_small_numerator_disclosive"
                " from staging.indicator_catalogue"
            ).fetchall()
        )
    checked = 0
    with connected(logins["bi"]) as conn:
        relations = conn.execute(
            "select table_name, array_agg(column_name::text) from information_schema.columns"
            " where table_schema = 'marts' group by 1 order by 1"
        ).fetchall()
        for table, columns in relations:
            counts = sorted(COUNT_COLUMNS & set(columns))
            if counts and "indicator_id" in columns:
                numerator_sql = "numerator" if "numerator" in columns else "null::numeric"
                denominator_sql = "denominator" if "denominator" in columns else "null::numeric"
                for indicator_id, numerator, denominator in conn.execute(
                    f"select indicator_id, {numerator_sql}, {denominator_sql} from marts.{table}"  # noqa: S608
                    f" where {numerator_sql} is not null or {denominator_sql} is not null"
                ):
                    checked += 1
                    minimum, people = rules[indicator_id]
                    where = f"marts.{table} {indicator_id} {numerator}/{denominator}"
                    assert denominator is None or denominator >= minimum, where
                    if people and numerator is not None:
                        assert not 1 <= numerator <= 4, where
                        assert denominator is None or not 1 <= denominator - numerator <= 4, where
            if "is_suppressed" in columns:
                blanked = sorted((COUNT_COLUMNS | DERIVED_COLUMNS | {"indicative_band", "trend"}) & set(columns))
                shown = " or ".join(f"{c} is not null" for c in blanked)
                leaks = conn.execute(f"select count(*) from marts.{table} where is_suppressed and ({shown})").fetchone()  # noqa: S608
                assert leaks == (0,), f"marts.{table}: suppressed rows with a number shown"
            elif table in DRAWN_FROM_VALUE_ROWS:
                key = DRAWN_FROM_VALUE_ROWS[table]
                drawn = sorted((COUNT_COLUMNS | DERIVED_COLUMNS) & set(columns))
                shown = " or ".join(f"drawn.{c} is not null" for c in drawn)
                leaks = conn.execute(
                    f"select count(*) from marts.{table} as drawn"  # noqa: S608
                    f" inner join marts.fct_indicator_values as v on v.indicator_value_id = drawn.{key}"
                    f" where v.is_suppressed and ({shown})"
                ).fetchone()
                assert leaks == (0,), f"marts.{table}: a suppressed row reached it with its value"
            elif set(columns) & (COUNT_COLUMNS | DERIVED_COLUMNS) and table not in ABOUT_NO_UNIT:
                pytest.fail(f"marts.{table} shows numbers without an is_suppressed flag")
    assert checked > 10_000


def test_suppression_is_flagged_not_silent_and_no_pdu_can_be_worked_out(pipeline_state, warehouse_url):
    with psycopg.connect(warehouse_url.url()) as conn:
        silent = conn.execute(
            "select count(*) from marts.fct_indicator_values"
            " where value is null and not is_suppressed and numerator is not null and denominator > 0"
        ).fetchone()
        flagged = conn.execute(
            "select count(*) filter (where is_suppressed), count(*) filter (where suppression_reason is not null)"
            " from marts.fct_indicator_values"
        ).fetchone()
        # Where a provider's row is shown, never exactly one of its PDUs is suppressed (differencing).
        lone = conn.execute(
            """
            select count(*) from (
                select pdus.provider_id, pdus.indicator_id, pdus.period_end_date
                from marts.fct_indicator_values as pdus
                inner join marts.fct_indicator_values as providers
                    on providers.provider_id = pdus.provider_id and providers.indicator_id = pdus.indicator_id
                    and providers.period_end_date = pdus.period_end_date and providers.pdu_code is null
                where pdus.pdu_code is not null and not providers.is_suppressed
                group by 1, 2, 3
                having count(*) filter (where pdus.is_suppressed) = 1
            ) as lone_suppressions
            """
        ).fetchone()
        frozen = conn.execute(
            "select count(*) filter (where is_suppressed), count(*) filter (where is_suppressed and value is not null)"
            " from marts.evidence_pack_values"
        ).fetchone()
    assert silent == (0,)
    assert flagged[0] == flagged[1] > 100
    assert lone == (0,)
    assert frozen[0] > 0 and frozen[1] == 0, "packs show suppressed values as suppressed, flagged"


def test_the_pipeline_login_rebuilds_the_marts_without_being_a_superuser(pipeline_state, warehouse_url, tmp_path):
    """The production set-up: dbt runs as a least-privilege login (SET ROLE warehouse_transformer), and the
    rebuilt marts come back with their grants and row-level security, and the same rows."""
    from probation_evidence.local import dbt_runner

    name, password = f"pe_test_pipeline_{SUFFIX}", secrets.token_urlsafe(16)
    warehouse.create_pipeline_login(warehouse_url, name, password)
    login = warehouse.WarehouseUrl(warehouse_url.host, warehouse_url.port, name, password, warehouse_url.dbname)
    snapshot = (
        "select c.relname, c.relrowsecurity, c.relacl::text, pg_get_userbyid(c.relowner),"
        " (select count(*) from pg_policies p where p.schemaname = 'marts' and p.tablename = c.relname)"
        " from pg_class c where c.relnamespace = 'marts'::regnamespace and c.relkind = 'r' order by 1"
    )
    try:
        with psycopg.connect(warehouse_url.url()) as admin:
            before = admin.execute(snapshot).fetchall()
            rows_before = admin.execute(
                "select count(*), sum(hashtext(t::text)) from marts.fct_indicator_values t"
            ).fetchone()
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
            mp.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
            dbt_runner.run(["build", "--select", "marts"], url=login)  # raises if any model or test fails
        with psycopg.connect(warehouse_url.url()) as admin:
            assert admin.execute(snapshot).fetchall() == before
            assert (
                admin.execute("select count(*), sum(hashtext(t::text)) from marts.fct_indicator_values t").fetchone()
                == rows_before
            )
            assert admin.execute("select rolsuper from pg_roles where rolname = %s", [name]).fetchone() == (False,)
    finally:
        with psycopg.connect(warehouse_url.url(), autocommit=True) as admin:
            admin.execute(psycopg.sql.SQL("drop role {}").format(psycopg.sql.Identifier(name)))
