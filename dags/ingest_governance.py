"""
### Ingest governance records

Picks up each provider's governance returns (policy register, premises audits, risk register, strategic
board attendance, audit and inspection actions), lands them as Parquet with manifests and loads them into
`raw` through the source contracts. Late and missing returns are recorded in `audit.submissions`.

Emits the `raw_governance` Asset, on which `transform_warehouse` is scheduled.
"""

from __future__ import annotations

from airflow.sdk import DAG

from probation_evidence.orchestration.ingest_dag import ingest_dag

dag: DAG = ingest_dag("governance", schedule="0 6 * * 1", doc_md=__doc__)
