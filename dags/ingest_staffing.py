"""
### Ingest staffing (HR) data from every provider

Pulls establishment and staff records from each provider's HR API (paginated JSON, token auth), lands
them as immutable Parquet with a manifest, and loads them into `raw` through the source contracts:
valid rows by COPY, bad rows into `audit.quarantine` with the reason. One mapped task per provider, so
one provider's failure does not stop the others. Each slice (entity, provider, period) is loaded in one
transaction keyed on the run's logical date: rerunning a run changes nothing.

Emits the `raw_staffing` Asset, on which `transform_warehouse` is scheduled.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from probation_evidence import settings
from probation_evidence.orchestration import DEFAULT_ARGS, RAW_STAFFING, START_DATE, mapped_results


@dag(
    schedule="0 5 * * 1",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingest", "staffing"],
    doc_md=__doc__,
)
def ingest_staffing():
    @task
    def list_providers() -> list[str]:
        from probation_evidence.ingest import provider_ids

        return provider_ids()

    @task(max_active_tis_per_dagrun=4)
    def extract_provider(provider_id: str, logical_date=None) -> list[dict]:
        from probation_evidence.ingest import extract_staffing
        from probation_evidence.orchestration import api_endpoint

        base_url, token = api_endpoint(settings.STAFFING_API_CONN_ID)
        return extract_staffing(provider_id, logical_date.date(), base_url, token)

    @task(max_active_tis_per_dagrun=4)
    def load_provider(manifests: list[dict]) -> list[dict]:
        from probation_evidence.ingest import load_manifests
        from probation_evidence.orchestration import warehouse_url

        return load_manifests(warehouse_url(), manifests)

    @task(outlets=[RAW_STAFFING], trigger_rule="all_done", multiple_outputs=False)
    def record_completion(results: list[list[dict]]) -> dict:
        """Summarise the run; fail it (after every provider has had its turn) if any provider failed."""
        batches = [batch for provider in mapped_results(results) if provider for batch in provider]
        summary = {
            "batches": len(batches),
            "rows_landed": sum(b["rows_landed"] for b in batches),
            "rows_loaded": sum(b["rows_loaded"] for b in batches),
            "rows_quarantined": sum(b["rows_quarantined"] for b in batches),
            "providers_loaded": sorted({b["provider_id"] for b in batches}),
        }
        expected = len(list_providers.function())
        if len(summary["providers_loaded"]) < expected:
            raise RuntimeError(f"only {len(summary['providers_loaded'])} of {expected} providers loaded: {summary}")
        return summary

    manifests = extract_provider.expand(provider_id=list_providers())
    record_completion(load_provider.expand(manifests=manifests))


ingest_staffing()
