"""What a transform run rebuilds (orchestration/build_plan.py): the nodes changed sources reach, or everything."""

from __future__ import annotations

import pytest

from probation_evidence.orchestration import build_plan


def _manifest() -> dict:
    """Two sources, a seed, and four models: m1 <- a; m2 <- b; m3 <- m1, seed; m4 <- m2, m3."""

    def node(kind: str, name: str, *deps: str) -> tuple[str, dict]:
        uid = f"{kind}.p.{name}"
        return uid, {"resource_type": kind, "name": name, "depends_on": {"nodes": list(deps)}}

    source = {"source_name": "fam", "schema": "raw", "resource_type": "source"}
    return {
        "sources": {
            "source.p.fam.a": {**source, "name": "a", "identifier": "fam_a"},
            "source.p.fam.b": {**source, "name": "b", "identifier": "fam_b"},
            "source.p.fam.unread": {**source, "name": "unread", "identifier": "fam_unread"},
        },
        "nodes": dict(
            [
                node("seed", "s"),
                node("model", "m1", "source.p.fam.a"),
                node("model", "m2", "source.p.fam.b"),
                node("model", "m3", "model.p.m1", "seed.p.s"),
                node("model", "m4", "model.p.m2", "model.p.m3"),
                node("test", "t1", "model.p.m1"),
            ]
        ),
    }


#: The seeds and models downstream of the weekly returns (and of the load audit, which every load changes).
WEEKLY_RETURNS_REACH = {
    "stg_workload__weekly_caseload",
    "stg_audit__load_batches",
    "int_workload_indicators_counted",
    "int_indicator_counts_unioned",
    "int_indicator_values_measured",
    "int_indicator_values_disclosure_checked",
    "int_indicator_values_compared",
    "int_indicator_values_trended",
    "fct_indicator_values",
    "fct_characteristic_evidence",
    "fct_standard_indicative_ratings",
    "int_provider_context",
    "dim_provider_context",
    "dim_provider_peer",
    "fct_indicator_peer_comparison",
    "fct_funnel_summary",
    "fct_funnel_limits",
    "fct_funnel_points",
}
STATE = {"project": "p1", "sources": {"source.p.fam.a": "batches:1", "source.p.fam.b": "batches:2"}}


def test_only_the_sources_models_read_are_fingerprinted():
    _, sources = build_plan.graph(_manifest())
    assert set(sources) == {"source.p.fam.a", "source.p.fam.b"}
    assert sources["source.p.fam.a"] == ("fam", "a", "raw", "fam_a")


def test_nothing_changed_leaves_every_seed_and_model_as_built():
    kept, why = build_plan.plan(_manifest(), STATE, STATE)
    assert kept == {"seed.p.s", "model.p.m1", "model.p.m2", "model.p.m3", "model.p.m4"}
    assert "none" in why
    assert build_plan.test_selection(_manifest(), kept) == build_plan.NOTHING_REBUILT


def test_a_changed_source_rebuilds_what_it_reaches_and_no_more():
    current = {**STATE, "sources": {**STATE["sources"], "source.p.fam.b": "batches:3"}}
    kept, why = build_plan.plan(_manifest(), current, STATE)
    assert kept == {"seed.p.s", "model.p.m1", "model.p.m3"}, "m2 reads b; m4 reads m2"
    assert "fam.b" in why
    assert build_plan.test_selection(_manifest(), kept) == "m2 m4"


def test_a_change_upstream_reaches_through_every_path():
    current = {**STATE, "sources": {**STATE["sources"], "source.p.fam.a": "batches:9"}}
    kept, _ = build_plan.plan(_manifest(), current, STATE)
    assert kept == {"seed.p.s", "model.p.m2"}, "a reaches m1, then m3, then m4"


def test_a_source_first_seen_counts_as_changed():
    kept, _ = build_plan.plan(_manifest(), STATE, {**STATE, "sources": {"source.p.fam.a": "batches:1"}})
    assert "model.p.m2" not in kept and "model.p.m4" not in kept


@pytest.mark.parametrize(
    ("last", "rebuild_all", "reason"),
    [
        (None, False, "no record"),
        ({**STATE, "project": "p0"}, False, "project changed"),
        (STATE, True, "rebuild_all"),
    ],
)
def test_everything_is_built_without_a_record_after_a_project_change_or_when_asked(last, rebuild_all, reason):
    kept, why = build_plan.plan(_manifest(), STATE, last, rebuild_all=rebuild_all)
    assert kept == set()
    assert reason in why
    assert build_plan.test_selection(_manifest(), kept) == build_plan.ALL_NODES


def test_the_project_digest_changes_with_any_file_the_build_reads(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: p\n")
    model = tmp_path / "models" / "m1.sql"
    model.write_text("select 1\n")
    first = build_plan.project_digest(tmp_path)
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text("{}")
    assert build_plan.project_digest(tmp_path) == first, "dbt's own output is not an input"
    model.write_text("select 2\n")
    assert build_plan.project_digest(tmp_path) != first
    model.write_text("select 1\n")
    model.rename(tmp_path / "models" / "m2.sql")
    assert build_plan.project_digest(tmp_path) != first, "a renamed model is a change"


def test_new_weekly_returns_reach_only_the_workload_chain_of_the_real_project():
    manifest = build_plan.read_manifest()
    nodes, sources = build_plan.graph(manifest)
    last = {"project": "p", "sources": {uid: "batches:old" for uid in sources}}
    changed = ("source.probation_evidence.workload.weekly_caseload", "source.probation_evidence.audit.load_batches")
    current = {**last, "sources": {**last["sources"], **{uid: "batches:new" for uid in changed}}}
    kept, _ = build_plan.plan(manifest, current, last)
    rebuilt = set(build_plan.test_selection(manifest, kept).split())
    assert rebuilt == WEEKLY_RETURNS_REACH
    assert len(kept) == len(nodes) - len(rebuilt)
