"""The planner query files' header format, parameter binding and errors (pure Python, no database)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from probation_evidence import cli
from probation_evidence.planner import queries as planner_queries
from probation_evidence.planner import query_files
from probation_evidence.planner.query_files import QueryFileError, QueryParameterError

GOOD = """\
-- question: Which providers are furthest from national
--   on staffing?
-- definition: Latest values; suppressed ones
--   count as none.
-- param: as_at date default current_date -- the data as at this date
-- param: provider_id text default null -- one provider, or all
-- param: weeks integer default 8
-- param: since date default 2025-09-30 -- a fixed date
-- param: label text default 'it''s' -- quoted text
-- param: indicator_id text -- required
-- returns: provider_id,
--   value, weeks
-- uses-index: marts.fct_indicator_values (provider_id, indicator_id, pdu_code, period_end_date)
select
    provider_id,
    value,
    cast(:'weeks' as integer) as weeks
from marts.fct_indicator_values
where
    period_end_date <= cast(:'as_at' as date)
    and (nullif(:'provider_id', '') is null or provider_id = :'provider_id')
    and period_end_date > cast(:'since' as date)
    and indicator_id = :'indicator_id'
    and :'label' <> '100%'
"""


def write(tmp_path: Path, text: str, name: str = "good_query.sql") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def good(tmp_path):
    return query_files.parse_file(write(tmp_path, GOOD))


def test_the_header_gives_name_question_definition_params_columns_and_indexes(good):
    assert good.name == "good_query"
    assert good.question == "Which providers are furthest from national on staffing?"
    assert good.definition == "Latest values; suppressed ones count as none."
    assert [(p.name, p.type, p.required) for p in good.params] == [
        ("as_at", "date", False),
        ("provider_id", "text", False),
        ("weeks", "integer", False),
        ("since", "date", False),
        ("label", "text", False),
        ("indicator_id", "text", True),
    ]
    params = {p.name: p for p in good.params}
    assert params["as_at"].default == "current_date"
    assert params["provider_id"].default is None
    assert params["weeks"].default == 8
    assert params["since"].default == date(2025, 9, 30)
    assert params["label"].default == "it's"
    assert params["as_at"].description == "the data as at this date"
    assert params["weeks"].description == ""
    assert good.columns == ("provider_id", "value", "weeks")
    assert [str(i) for i in good.indexes] == [
        "marts.fct_indicator_values (provider_id, indicator_id, pdu_code, period_end_date)"
    ]


def test_binding_turns_psql_variables_into_placeholders_with_typed_values(good):
    sql, values = good.bind({"indicator_id": "S01", "weeks": "12", "as_at": "2026-09-30"})
    assert ":'" not in sql
    assert "cast(%(weeks)s as integer)" in sql and "cast(%(as_at)s as date)" in sql
    assert sql.count("%(provider_id)s") == 2
    assert "'100%%'" in sql, "a literal % is doubled for psycopg"
    assert values == {
        "as_at": date(2026, 9, 30),
        "provider_id": None,
        "weeks": 12,
        "since": date(2025, 9, 30),
        "label": "it's",
        "indicator_id": "S01",
    }
    # typed values pass as they are; the defaults fill the rest; current_date is today
    _, values = good.bind({"indicator_id": "S01", "weeks": 3, "since": date(2020, 1, 1), "provider_id": "N07"})
    assert values["as_at"] == date.today() and values["weeks"] == 3 and values["since"] == date(2020, 1, 1)
    assert values["provider_id"] == "N07"


def test_values_never_reach_the_sql_text(good):
    hostile = "N07'); drop table marts.dim_provider; --"
    sql, values = good.bind({"indicator_id": hostile, "provider_id": hostile})
    assert hostile not in sql and "drop table" not in sql
    assert values["indicator_id"] == hostile


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"indicator_id": "S01", "provider": "N07"}, "good_query.sql: unknown parameter 'provider'; it takes as_at"),
        ({}, "good_query.sql: parameter 'indicator_id' (text) is required and was not given"),
        ({"indicator_id": None}, "good_query.sql: parameter 'indicator_id' (text) needs a value"),
        ({"indicator_id": "S01", "as_at": "30/09/2026"}, "parameter 'as_at' must be a date (YYYY-MM-DD or today)"),
        ({"indicator_id": "S01", "as_at": "2026-02-30"}, "parameter 'as_at' must be a date"),
        ({"indicator_id": "S01", "as_at": 20260930}, "parameter 'as_at' must be a date (YYYY-MM-DD), not int"),
        (
            {"indicator_id": "S01", "weeks": "eight"},
            "good_query.sql: parameter 'weeks' must be an integer, got 'eight'",
        ),
        ({"indicator_id": "S01", "weeks": 2.5}, "parameter 'weeks' must be an integer, not float"),
        ({"indicator_id": "S01", "weeks": True}, "parameter 'weeks' must be an integer, not bool"),
        ({"indicator_id": "S01", "weeks": 2**40}, "parameter 'weeks' is out of range"),
        ({"indicator_id": "S01", "weeks": ""}, "parameter 'weeks' (integer) needs a value"),
        ({"indicator_id": 7}, "parameter 'indicator_id' must be text, not int"),
    ],
)
def test_unknown_missing_and_ill_typed_parameters_are_named(good, values, message):
    with pytest.raises(QueryParameterError) as error:
        good.bind(values)
    assert message in str(error.value)


def test_optional_parameters_take_an_empty_value_as_not_given(tmp_path, good):
    _, values = good.bind({"indicator_id": "S01", "provider_id": ""})
    assert values["provider_id"] is None
    optional_date = header("-- question: Q?", "-- param: as_at date default null", "-- returns: as_at")
    assert query_files.parse_file(write(tmp_path, optional_date)).bind({"as_at": ""})[1] == {"as_at": None}
    with pytest.raises(QueryParameterError, match="parameter 'since' \\(date\\) needs a value"):
        good.bind({"indicator_id": "S01", "since": ""})  # its default is a date, not null
    _, values = good.bind({"indicator_id": "S01", "as_at": "today"})
    assert values["as_at"] == date.today()


def header(*lines: str, body: str = "select :'as_at' as as_at") -> str:
    return "\n".join(lines) + "\n" + body + "\n"


BASE = ("-- question: Q?", "-- param: as_at date", "-- returns: as_at")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("select 1\n", "no header"),
        (header("-- param: as_at date", "-- returns: as_at"), "exactly one '-- question:'"),
        (header("-- question: Q?", "-- param: as_at date"), "exactly one '-- returns:'"),
        (header(*BASE, "-- question: again?"), "exactly one '-- question:'"),
        (header(*BASE, "-- definition: a", "-- definition: b"), "more than one '-- definition:'"),
        (header(*BASE, "-- note: hello"), "good_query.sql:4: unknown header key 'note'"),
        (header(*BASE, "-- just words"), "good_query.sql:4: a header line must be"),
        (header("-- question: Q?", "-- param: as_at date", "--   continued", "-- returns: as_at"), ":3:"),
        (header("-- question:", "-- param: as_at date", "-- returns: as_at"), "'-- question:' has no value"),
        (header("-- question: Q?", "-- param: as_at datetime", "-- returns: as_at"), "unknown type 'datetime'"),
        (header("-- question: Q?", "-- param: As-At date", "-- returns: as_at"), "must be lower_snake_case"),
        (header("-- question: Q?", "-- param: as_at", "-- returns: as_at"), "cannot read '-- param: as_at'"),
        (header("-- question: Q?", "-- param: as_at date default soon", "-- returns: as_at"), "default that is not"),
        (header("-- question: Q?", "-- param: n integer default current_date", "-- returns: as_at"), "needs type date"),
        (header(*BASE, "-- param: as_at date"), "parameter 'as_at' is declared twice"),
        (header("-- question: Q?", "-- param: as_at date", "-- returns: a, a"), "distinct column names"),
        (header(*BASE, "-- uses-index: fct_indicator_values"), "cannot read '-- uses-index:"),
        (header(*BASE, body="select :'as_at', :'weeks'"), "uses :'weeks' but the header declares no such"),
        (header(*BASE, "-- param: weeks integer"), "parameter 'weeks' is declared but the SQL never uses"),
        (header(*BASE, body="select :as_at"), "write parameters as :'name'"),
        (header(*BASE, body='select * from :"as_at"'), "write parameters as :'name'"),
        (header(*BASE, body="select :'as_at', 'unterminated"), "unterminated ' quote"),
    ],
)
def test_a_broken_header_or_sql_is_refused_naming_the_file(tmp_path, text, message):
    with pytest.raises(QueryFileError) as error:
        query_files.parse_file(write(tmp_path, text))
    assert message in str(error.value)
    assert "good_query.sql" in str(error.value)


def test_the_file_name_is_the_query_name_and_must_be_snake_case(tmp_path):
    with pytest.raises(QueryFileError, match="lower_snake_case"):
        query_files.parse_file(write(tmp_path, header(*BASE), name="Bad-Name.sql"))


def test_variables_inside_literals_comments_and_identifiers_are_left_alone():
    sql = """\
select
    value::numeric,                       -- a cast, not a variable; :'in_comment' in a comment
    ':''not_a_variable''' as text_literal,
    "quoted:'identifier'" as odd_name,
    $body$ :'in_dollar_quotes' $body$ as dollar,
    /* :'in_block' */ :'real_one' as real_one,
    100 % 7 as remainder
"""
    assert query_files.psql_variables(sql) == ["real_one"]
    converted = query_files.to_psycopg(sql)
    assert "%(real_one)s as real_one" in converted
    assert ":'in_comment'" in converted and ":'in_dollar_quotes'" in converted and ":'in_block'" in converted
    assert "100 %% 7" in converted and "value::numeric" in converted


def test_every_query_file_in_the_project_parses_and_is_lower_case_sql():
    queries = planner_queries.load_queries()
    assert len(queries) >= 6
    for name, query in queries.items():
        assert query.path == planner_queries.queries_dir() / f"{name}.sql"
        assert query.question.endswith("?"), name
        assert query.definition, f"{name}: every query states its definition"
        assert query.columns and query.params, name
        body = "\n".join(line for line in query.sql.splitlines() if not line.lstrip().startswith("--"))
        for keyword in ("SELECT", "FROM", "WHERE", "JOIN", "GROUP BY", "ORDER BY"):
            assert keyword not in body, f"{name}: keywords are lower case"
        schemas = set(re.findall(r"\b(?:from|join)\s+([a-z_]+)\.[a-z_]+", body))
        assert schemas and schemas <= {"marts", "audit"}, f"{name} reads {schemas} (only marts and audit)"
        assert not re.search(r"\bfrom\s+[a-z_.]+\s*,", body), f"{name}: explicit joins, not comma joins"


def test_get_query_names_the_known_queries_when_one_is_unknown():
    with pytest.raises(LookupError) as error:
        planner_queries.get_query("no_such_query")
    assert "unknown query 'no_such_query'; known queries: " in str(error.value)
    assert "packs_due" in str(error.value)


def test_query_list_and_parameter_errors_on_the_command_line(capsys):
    assert cli.main(["query", "--list"]) == 0
    out = capsys.readouterr().out
    for name, query in planner_queries.load_queries().items():
        assert name in out and query.question in out
    assert "--param as_at=<date>  (default current_date)" in out
    # parameter errors are reported before any connection is made
    assert cli.main(["query", "packs_due", "--param", "weeks=eight"]) == 1
    assert "packs_due.sql: parameter 'weeks' must be an integer, got 'eight'" in capsys.readouterr().err
    assert cli.main(["query", "packs_due", "--param", "provider=N07"]) == 1
    assert "packs_due.sql: unknown parameter 'provider'; it takes as_at, weeks" in capsys.readouterr().err
    assert cli.main(["query", "packs_due", "--param", "weeks"]) == 1
    assert "write --param name=value" in capsys.readouterr().err
    assert cli.main(["query", "no_such_query"]) == 1
    assert "unknown query 'no_such_query'" in capsys.readouterr().err


def test_results_format_as_table_csv_and_json(good):
    from decimal import Decimal

    result = planner_queries.QueryResult(
        good, {}, ("provider_id", "value", "weeks"), [("N07", Decimal("0.200000"), 3), ("=cmd()", None, 12)]
    )
    table = planner_queries.format_result(result, "table").splitlines()
    assert table[0].split(" | ") == ["provider_id", "value   ", "weeks"]
    assert table[2] == "N07         | 0.200000 |     3"
    assert table[-1] == "(2 rows)"
    csv_text = planner_queries.format_result(result, "csv")
    assert csv_text.splitlines() == ["provider_id,value,weeks", "N07,0.200000,3", "'=cmd(),,12"]
    import json

    assert json.loads(planner_queries.format_result(result, "json")) == [
        {"provider_id": "N07", "value": 0.2, "weeks": 3},
        {"provider_id": "=cmd()", "value": None, "weeks": 12},
    ]
    with pytest.raises(ValueError, match="unknown format"):
        planner_queries.format_result(result, "xml")
