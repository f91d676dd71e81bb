"""The dbt project's house rules, read from a fresh `dbt parse` manifest (no database needed).

Every model, seed and source is described, and so is every column it declares; every model has a
primary key (a column tested both unique and not_null); every mart has an enforced contract; every
source has freshness; names follow the layer's convention; incremental models say how they merge and
what happens when their columns change. That the declared columns are all the columns a model really
has is checked against the warehouse's catalog after a real build (tests/e2e/test_pipeline.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from probation_evidence.local import dbt_runner

PACKAGE = "probation_evidence"
NAME_PATTERNS = {
    "staging": r"stg_[a-z]+__[a-z_]+",
    "intermediate": r"int_[a-z_]+_[a-z]+",  # int_<entity>_<verb>, as the README's Conventions say
    "marts": r"(fct|dim|bridge)_[a-z_]+",
}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, monkeypatch_module):
    target = tmp_path_factory.mktemp("dbt-target")
    monkeypatch_module.setenv("DBT_TARGET_PATH", str(target))
    monkeypatch_module.setenv("DBT_LOG_PATH", str(target / "logs"))
    dbt_runner.run(["parse"])
    return json.loads((target / "manifest.json").read_text())


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _ours(manifest, *kinds: str) -> list[dict]:
    nodes = [*manifest["nodes"].values(), *manifest["sources"].values()]
    return [n for n in nodes if n["package_name"] == PACKAGE and n["resource_type"] in kinds]


def _tests_by_column(manifest) -> dict[tuple[str, str | None], set[str]]:
    found: dict[tuple[str, str | None], set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        name = (node.get("test_metadata") or {}).get("name")
        found.setdefault((node["attached_node"], node.get("column_name")), set()).add(name)
    return found


def test_every_model_seed_and_source_is_described_with_every_declared_column(manifest):
    missing = []
    for node in _ours(manifest, "model", "seed", "source"):
        if not node["description"].strip():
            missing.append(node["unique_id"])
        if not node["columns"]:
            missing.append(f"{node['unique_id']}: no columns declared")
        missing += [
            f"{node['unique_id']}.{name}"
            for name, column in node["columns"].items()
            if not column["description"].strip()
        ]
    assert not missing, "described nowhere:\n" + "\n".join(missing)


def test_every_model_has_a_primary_key(manifest):
    tests = _tests_by_column(manifest)
    without = [
        node["name"]
        for node in _ours(manifest, "model")
        if not any(
            {"unique", "not_null"} <= names for (owner, column), names in tests.items() if owner == node["unique_id"]
        )
    ]
    assert not without, f"models with no column tested unique and not_null: {without}"


def test_every_mart_is_a_table_with_an_enforced_contract(manifest):
    marts = [n for n in _ours(manifest, "model") if n["fqn"][1] == "marts"]
    assert len(marts) >= 9
    for node in marts:
        assert node["config"]["contract"]["enforced"], f"{node['name']}: contract not enforced"
        assert node["config"]["materialized"] == "table", node["name"]
        for name, column in node["columns"].items():
            assert column["data_type"], f"{node['name']}.{name}: a contract column needs a data_type"


def test_every_source_has_freshness(manifest):
    sources = _ours(manifest, "source")
    assert len(sources) >= 25  # 23 raw entities and the two audit tables
    for source in sources:
        freshness = source["freshness"] or {}
        assert source["loaded_at_field"], source["unique_id"]
        assert (freshness.get("warn_after") or {}).get("count"), source["unique_id"]
        assert (freshness.get("error_after") or {}).get("count"), source["unique_id"]


def test_model_names_follow_their_layer(manifest):
    wrong = []
    for node in _ours(manifest, "model"):
        layer = node["fqn"][1]
        if not re.fullmatch(NAME_PATTERNS[layer], node["name"]):
            wrong.append(f"{layer}/{node['name']}")
    assert not wrong, wrong


def test_incremental_models_state_their_key_strategy_and_schema_change_rule(manifest):
    incremental = [n for n in _ours(manifest, "model") if n["config"]["materialized"] == "incremental"]
    assert [n["name"] for n in incremental] == ["int_workload_indicators_counted"]
    for node in incremental:
        assert node["config"]["unique_key"], node["name"]
        assert node["config"]["incremental_strategy"] == "delete+insert", node["name"]
        assert node["config"]["on_schema_change"] in {"fail", "append_new_columns", "sync_all_columns"}


# The public marts' names are an interface: BI dashboards, planner queries and packs name them. Renaming
# or dropping one must be a decision, made here, not a side effect.
PUBLIC_MARTS = {
    "bridge_indicator_characteristic",
    "dim_characteristic",
    "dim_disclosure_policy",
    "dim_indicator",
    "dim_inspection",
    "dim_provider",
    "dim_provider_context",
    "dim_provider_peer",
    "dim_standard",
    "fct_characteristic_evidence",
    "fct_funnel_limits",
    "fct_funnel_points",
    "fct_funnel_summary",
    "fct_indicator_peer_comparison",
    "fct_indicator_values",
    "fct_standard_indicative_ratings",
}


def test_the_public_marts_keep_their_names_and_are_public(manifest):
    marts = {n["name"]: n for n in _ours(manifest, "model") if n["fqn"][1] == "marts"}
    assert set(marts) == PUBLIC_MARTS
    for node in marts.values():
        assert node["access"] == "public", node["name"]
        assert node["relation_name"].split(".")[-2].strip('"') == "marts", node["relation_name"]


#: Marts that name other providers on a provider's own rows: planners and the publisher read them, and no
#: provider-scoped or BI login may (row-level security cannot hide a column).
PLANNERS_ONLY = {"dim_provider_peer": "each row names one of the provider's statistical neighbours"}
ACCESS_SQL = (Path(__file__).resolve().parents[2] / "sql" / "bootstrap" / "07_access.sql").read_text()


def test_every_mart_gets_provider_row_security_and_every_reader_role(manifest):
    for node in _ours(manifest, "model"):
        if node["fqn"][1] != "marts":
            continue
        hooks = [hook["sql"] for hook in node["config"]["post-hook"]]
        assert any("provider_row_security()" in sql for sql in hooks), node["name"]
        readers = set(node["config"]["grants"]["select"])
        if node["name"] in PLANNERS_ONLY:
            assert readers == {"planner_reader", "warehouse_publisher"}, node["name"]
            # the bootstrap's blanket grant to provider_reader must not give it back
            assert f"revoke all on marts.{node['name']} from provider_reader, bi_reader" in ACCESS_SQL, node["name"]
            assert any("revoke all" in sql and "provider_reader, bi_reader" in sql for sql in hooks), node["name"]
        else:
            assert {"bi_reader", "planner_reader", "provider_reader", "warehouse_publisher"} <= readers, node["name"]


def test_exposures_declare_the_pack_and_the_bi_dashboard_on_public_marts_only(manifest):
    exposures = {e["name"]: e for e in manifest["exposures"].values() if e["package_name"] == PACKAGE}
    assert {e["type"] for e in exposures.values()} == {"application", "dashboard"}
    assert {"evidence_pack", "provider_comparison_dashboard"} <= set(exposures)
    used = set()
    for exposure in exposures.values():
        assert exposure["description"].strip() and exposure["owner"]["name"] and exposure["url"], exposure["name"]
        for unique_id in exposure["depends_on"]["nodes"]:
            kind, _, *_, name = unique_id.split(".")
            if kind == "model":
                assert name in PUBLIC_MARTS, f"{exposure['name']} reads {name}, which is not a public mart"
                used.add(name)
            else:
                assert kind == "source", unique_id
    assert used == PUBLIC_MARTS, f"marts no exposure reads: {PUBLIC_MARTS - used}"
