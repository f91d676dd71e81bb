"""
### Ingest ICT data from every provider

Pulls system availability, priority incidents, remote-working access, record completeness returns and the
MI report publication log from each provider's ICT API (paginated JSON, bearer token; rate limits and
server errors are retried with backoff), lands them as Parquet with manifests and loads them into `raw`
through the source contracts. Mapped over providers; every expected submission is recorded in
`audit.submissions`.

Emits the `raw_ict` Asset, on which `transform_warehouse` is scheduled.
"""

from __future__ import annotations

from airflow.sdk import DAG

from probation_evidence.orchestration.ingest_dag import ingest_dag

dag: DAG = ingest_dag("ict", schedule="0 5 * * 1", doc_md=__doc__)
