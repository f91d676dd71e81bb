"""
### Ingest services: interventions, referrals, volunteers and mentors

Picks up each provider's services returns (the interventions catalogue, referrals with their dates and
outcomes, the volunteer and mentor roster), lands them as Parquet with manifests and loads them into `raw`
through the source contracts. Late and missing returns are recorded in `audit.submissions`.

Emits the `raw_services` Asset, on which `transform_warehouse` is scheduled.
"""

from __future__ import annotations

from airflow.sdk import DAG

from probation_evidence.orchestration.ingest_dag import ingest_dag

dag: DAG = ingest_dag("services", schedule="0 6 * * 1", doc_md=__doc__)
