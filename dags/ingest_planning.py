"""
### Ingest the inspection programme from the Inspectorate's planning system

Reads each provider's planned inspections (inspection id, type, fieldwork start and end) from the planning
system's API as a snapshot for the run's date, lands them as Parquet with a manifest and loads them into
`raw.planning_inspection_schedule` through the source contract: fieldwork never ends before it starts, the
provider is the one asked for, and bad rows are quarantined with the reason. Daily, so an inspection added
or moved reaches `marts.dim_inspection`, and the publish DAG's lead window, the same day.

Emits the `raw_planning` Asset, on which `transform_warehouse` is scheduled.
"""

from __future__ import annotations

from airflow.sdk import DAG

from probation_evidence.orchestration.ingest_dag import ingest_dag

dag: DAG = ingest_dag("planning", schedule="0 6 * * *", doc_md=__doc__)
