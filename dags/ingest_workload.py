"""
### Ingest weekly workload (WMT) returns from every provider

Picks up each provider's weekly Workload Management Tool file drop (CSV or Parquet, header spellings and
encodings vary by provider) for every week of the look-back window, lands each file as immutable Parquet
with a manifest, and loads it into `raw` through the source contract, quarantining bad rows with the
reason. Files that arrive after their due date are recorded as late, and expected files that never
arrived as missing, in `audit.submissions`: missing evidence is itself evidence.

Emits the `raw_workload` Asset, on which `transform_warehouse` is scheduled.
"""

from __future__ import annotations

from airflow.sdk import DAG

from probation_evidence.orchestration.ingest_dag import ingest_dag

dag: DAG = ingest_dag("workload", schedule="0 6 * * 2", doc_md=__doc__)
