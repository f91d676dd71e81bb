"""OpenLineage settings and dataset names: where events go, that no secret goes with them, and that the
ingest tasks' outputs carry the very names the dbt models' inputs get (so the lineage graph joins).

The events themselves, from real Airflow runs, are checked in tests/e2e/test_lineage.py.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from probation_evidence import settings
from probation_evidence.local import dbt_runner
from probation_evidence.sources import lineage
from probation_evidence.sources.contracts import CONTRACTS

API_KEY = "ol-key-must-never-be-logged-3f9a"


@pytest.fixture
def no_lineage_env(monkeypatch, tmp_path):
    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_API_KEY", "OPENLINEAGE_ENDPOINT", "OPENLINEAGE_EVENTS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROBATION_EVIDENCE_STATE", str(tmp_path / "state"))
    return tmp_path


def test_events_go_to_a_file_under_the_state_folder_by_default(no_lineage_env):
    config = lineage.transport()
    assert config == {
        "type": "file",
        "log_file_path": str(no_lineage_env / "state" / "openlineage" / "events.jsonl"),
        "append": True,
    }
    assert Path(config["log_file_path"]).parent.is_dir(), "the events folder is created for the file transport"
    airflow = lineage.airflow_config()
    assert airflow["AIRFLOW__OPENLINEAGE__NAMESPACE"] == "probation-evidence"
    assert json.loads(airflow["AIRFLOW__OPENLINEAGE__TRANSPORT"]) == config
    assert airflow["AIRFLOW__OPENLINEAGE__EXTRACTORS"].split(";") == [
        "probation_evidence.sources.lineage_extractors.DbtSourceTablesExtractor",
        "probation_evidence.sources.lineage_extractors.DbtWatcherNodeExtractor",
    ]
    assert airflow["AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD"] == "True"


def test_events_go_over_http_when_openlineage_url_is_set(no_lineage_env, monkeypatch):
    monkeypatch.setenv("OPENLINEAGE_URL", "https://marquez.example:5000")
    config = lineage.transport()
    assert config["type"] == "http"
    assert config["url"] == "https://marquez.example:5000"
    assert config["endpoint"] == "api/v1/lineage"
    assert "auth" not in config, "no API key set: none sent"
    assert config["timeout"] <= 5 and config["retry"]["total"] <= 2, "a dead server must cost each event little"
    assert not (no_lineage_env / "state" / "openlineage").exists(), "no events file with an HTTP transport"

    monkeypatch.setenv("OPENLINEAGE_API_KEY", API_KEY)
    monkeypatch.setenv("OPENLINEAGE_ENDPOINT", "api/v2/lineage")
    config = lineage.transport()
    assert config["auth"] == {"type": "api_key", "apiKey": API_KEY}
    assert config["endpoint"] == "api/v2/lineage"


def test_the_http_transport_is_described_without_its_secrets(no_lineage_env, monkeypatch):
    monkeypatch.setenv("OPENLINEAGE_URL", "https://user:url-password@marquez.example:5000/base?token=abc")
    monkeypatch.setenv("OPENLINEAGE_API_KEY", API_KEY)
    described = lineage.describe_transport()
    assert described == "http https://marquez.example:5000/base (with API key)"
    for secret in (API_KEY, "url-password", "token=abc"):
        assert secret not in described


def test_the_openlineage_client_logs_no_api_key(no_lineage_env, monkeypatch, caplog):
    """The client the Airflow provider builds from our transport: every log record, at DEBUG, is free of it."""
    from openlineage.client import OpenLineageClient

    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("OPENLINEAGE_API_KEY", API_KEY)
    with caplog.at_level(logging.DEBUG):
        client = OpenLineageClient(config={"transport": lineage.transport()})
    assert client.transport.kind == "http"
    assert caplog.records, "the client logs how it is set up"
    assert all(API_KEY not in record.getMessage() for record in caplog.records)


def test_warehouse_tables_are_named_as_the_dbt_integration_names_them():
    place = (lineage.warehouse_namespace("db.example", None), "probation_evidence")
    assert place[0] == "postgres://db.example:5432"
    assert lineage.table_dataset(place, "raw", "staffing_staff") == (
        "postgres://db.example:5432",
        "probation_evidence.raw.staffing_staff",
    )


def test_an_api_extract_reads_one_endpoint_per_entity_and_writes_the_landing_zone(tmp_path):
    extracted = {
        "family": "staffing",
        "provider_id": "N07",
        "manifests": [
            {"source": "staffing", "entity": "staff", "period_end_date": "2026-09-30"},
            {"source": "staffing", "entity": "staff", "period_end_date": "2026-08-31"},
            {"source": "staffing", "entity": "absences", "period_end_date": "2026-09-30"},
        ],
        "errors": [],
    }
    inputs, outputs = lineage.extract_lineage(extracted, "http://hr.n07.example:8443", landing_root=tmp_path)
    assert inputs == [
        ("http://hr.n07.example:8443", "/v1/providers/N07/staff"),
        ("http://hr.n07.example:8443", "/v1/providers/N07/absences"),
    ]
    assert outputs == [
        ("file", f"{tmp_path.resolve()}/staffing/staff"),
        ("file", f"{tmp_path.resolve()}/staffing/absences"),
    ]


def test_a_file_extract_reads_the_providers_drop_folder(tmp_path):
    extracted = {
        "family": "workload",
        "provider_id": "N03",
        "manifests": [{"source": "workload", "entity": "weekly_caseload"}],
        "errors": [],
    }
    inputs, outputs = lineage.extract_lineage(extracted, None, drops_root=tmp_path / "drops", landing_root=tmp_path)
    assert inputs == [("file", f"{(tmp_path / 'drops').resolve()}/workload/N03/weekly_caseload")]
    assert outputs == [("file", f"{tmp_path.resolve()}/workload/weekly_caseload")]


def test_an_extract_that_landed_nothing_reports_nothing():
    assert lineage.extract_lineage({"family": "ict", "provider_id": "N01", "manifests": []}, "http://x:1") == ([], [])


def test_a_load_writes_each_entitys_raw_table_and_the_audit_tables(tmp_path):
    place = ("postgres://127.0.0.1:5432", "probation_evidence")
    loaded = {"results": [{"source": "staffing", "entity": "staff"}, {"source": "staffing", "entity": "staff"}]}
    inputs, outputs = lineage.load_lineage(loaded, place, landing_root=tmp_path)
    assert inputs == [("file", f"{tmp_path.resolve()}/staffing/staff")]
    names = [name for _, name in outputs]
    assert names == [
        "probation_evidence.raw.staffing_staff",
        "probation_evidence.audit.load_batches",
        "probation_evidence.audit.quarantine",
    ]
    assert lineage.load_lineage({"results": []}, place) == ([], [])


def test_reporting_outside_a_running_task_or_with_a_broken_computation_never_raises():
    import airflow.providers.openlineage.conf  # noqa: F401  (Airflow sets up logging on first import)

    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("probation_evidence.sources.lineage")
    logger.addHandler(handler)
    try:
        assert lineage.report(lambda: ([("file", "/in")], [("file", "/out")])) is None  # no task is running
        assert lineage.report(lambda: 1 / 0) is None
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == ["could not attach OpenLineage inputs/outputs to the task"] * 2
    assert isinstance(records[1].exc_info[1], ZeroDivisionError)


# The join between ingest and dbt -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    target = tmp_path_factory.mktemp("dbt-target")
    with settings.environment(DBT_TARGET_PATH=str(target), DBT_LOG_PATH=str(target / "logs")):
        dbt_runner.run(["parse"])
    return json.loads((target / "manifest.json").read_text())


def test_every_raw_table_the_loader_writes_is_the_physical_name_of_a_dbt_source(manifest):
    """What the extractor renames a source to is the table load_lineage names as a load's output."""
    from probation_evidence.sources.lineage_extractors import physical_name, source_table_renames

    renames = source_table_renames(manifest)
    raw_sources = {s["name"]: s for s in manifest["sources"].values() if s["schema"] == "raw"}
    place = ("postgres://h:5432", "db")
    for (family, entity), contract in CONTRACTS.items():
        source = raw_sources.get(entity)
        assert source is not None, f"no dbt source in schema raw is named {entity} ({family})"
        dbt_name = f"db.raw.{source['name']}"  # what OpenLineage's dbt integration calls it
        loaded = lineage.load_lineage({"results": [{"source": family, "entity": entity}]}, place)[1][0][1]
        assert physical_name(dbt_name, renames) == loaded == f"db.raw.{contract.table}"


def test_renaming_leaves_models_and_other_namespaces_alone_and_is_idempotent(manifest):
    from openlineage.client.event_v2 import InputDataset, OutputDataset

    from probation_evidence.sources.lineage_extractors import OperatorLineage, rename_sources, source_table_renames

    renames = source_table_renames(manifest)
    found = OperatorLineage(
        inputs=[
            InputDataset(namespace="postgres://h:5432", name="db.raw.staff"),
            InputDataset(namespace="postgres://h:5432", name="db.audit.load_batches"),
            InputDataset(namespace="file", name="db.raw.staff"),
        ],
        outputs=[OutputDataset(namespace="postgres://h:5432", name="db.staging.stg_staffing__staff")],
    )
    once = [d.name for d in rename_sources(found, renames).inputs]
    assert once == ["db.raw.staffing_staff", "db.audit.load_batches", "db.raw.staff"]
    assert [d.name for d in rename_sources(found, renames).inputs] == once
    assert found.outputs[0].name == "db.staging.stg_staffing__staff"


def test_a_watcher_nodes_lineage_is_its_manifest_dependencies_by_physical_name(manifest):
    """A sensor's job reads what its node depends on (sources by physical table) and writes its relation."""
    from probation_evidence.sources.lineage_extractors import node_relations

    inputs, outputs = node_relations(manifest, "model.probation_evidence.stg_staffing__establishment")
    assert inputs == [("raw", "staffing_establishment")]
    assert outputs == [("staging", "stg_staffing__establishment")]
    mart = manifest["nodes"]["model.probation_evidence.fct_indicator_values"]
    inputs, outputs = node_relations(manifest, mart["unique_id"])
    assert ("intermediate", "int_indicator_values_trended") in inputs
    assert len(inputs) == len(mart["depends_on"]["nodes"]), "one input per upstream relation, none lost"
    assert outputs == [("marts", "fct_indicator_values")]
    seed = next(n for n in manifest["nodes"].values() if n["resource_type"] == "seed")
    assert node_relations(manifest, seed["unique_id"]) == ([], [(seed["schema"], seed.get("alias") or seed["name"])])


def test_an_ephemeral_models_inputs_stand_in_for_it():
    from probation_evidence.sources.lineage_extractors import node_relations

    def model(name, deps, materialized="table"):
        return {"resource_type": "model", "schema": "s", "name": name, "config": {"materialized": materialized},
                "depends_on": {"nodes": deps}}  # fmt: skip

    manifest = {
        "sources": {"source.p.raw.a": {"schema": "raw", "name": "a", "identifier": "family_a"}},
        "nodes": {
            "model.p.eph": model("eph", ["source.p.raw.a", "model.p.base"], "ephemeral"),
            "model.p.base": model("base", []),
            "model.p.top": model("top", ["model.p.eph", "model.p.base"]),
        },
    }
    assert node_relations(manifest, "model.p.top") == ([("raw", "family_a"), ("s", "base")], [("s", "top")])
    assert node_relations(manifest, "model.p.eph") == ([("raw", "family_a"), ("s", "base")], [])
    assert node_relations(manifest, "model.p.missing") == ([], [])
