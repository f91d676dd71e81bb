"""
### Ingest staffing (HR) data from every provider

Pulls establishment, staff, absences, training, supervision and reasonable-adjustment records from each
provider's HR API (paginated JSON, bearer token, retries with backoff), lands them as immutable Parquet
with a manifest, and loads them into `raw` through the source contracts: valid rows by COPY, bad rows
into `audit.quarantine` with the reason. Mapped over providers: one provider's failure does not stop the
others. Each slice (entity, provider, period) is one transaction keyed on the run's logical date, so
rerunning a run changes nothing. Records every expected submission in `audit.submissions`.

Emits the `raw_staffing` Asset, on which `transform_warehouse` is scheduled.
"""

from __future__ import annotations

from airflow.sdk import DAG

from probation_evidence.orchestration.ingest_dag import ingest_dag

dag: DAG = ingest_dag("staffing", schedule="0 5 * * 1", doc_md=__doc__)
