"""
### Ingest feedback: staff survey, people on probation, complaints

Picks up the quarterly files survey tools and complaint logs drop for each provider (CSV or XLSX; odd
encodings and header variants are normalised against the contract), lands them as Parquet with manifests
and loads them into `raw`, quarantining bad rows with the reason. Late and missing returns are recorded in
`audit.submissions`.

Emits the `raw_feedback` Asset, on which `transform_warehouse` is scheduled.
"""

from __future__ import annotations

from airflow.sdk import DAG

from probation_evidence.orchestration.ingest_dag import ingest_dag

dag: DAG = ingest_dag("feedback", schedule="0 6 * * 1", doc_md=__doc__)
