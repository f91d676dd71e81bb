"""
### Publish evidence packs ahead of inspections

Runs when the transform DAG emits the `marts` Asset (the marts were rebuilt and every dbt test passed)
and daily at 07:00 UTC. Its first task refuses to publish unless `audit.marts_state` says `passed`: a
pack is never frozen from half-built or untested marts (the error names the state and what to do).
Each pack's queries run in one REPEATABLE READ, READ ONLY snapshot.

It finds the inspections whose fieldwork starts within the lead window (`PACK_LEAD_DAYS`, default 56
days) of the run's date, and writes an evidence pack for each under `output/packs/<inspection_id>/`:
a self-contained HTML file (charts inline, nothing fetched), an A4 PDF of it printed by headless
chromium, and a CSV of every number in it. Every indicator is shown beside the framework characteristic
statements it bears on, with its trend, every provider in the same period and the provider's PDUs.
Each publication is versioned: a new version is recorded in `audit.pack_publications`, with the SHA-256 of
its numbers and of its HTML, and its numbers are frozen in `marts.evidence_pack_values`. That happens only
for a first publication, when the data behind the as-at date changed, when its HTML changed with the same
numbers ('content changed': a recorded version's files never change), or on request (the `republish`
param lists inspection ids). Otherwise a rerun rewrites nothing and records nothing.
"""

from __future__ import annotations

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from probation_evidence.orchestration import DEFAULT_ARGS, MARTS, START_DATE, mapped_results


@dag(
    # On every tested rebuild of the marts, and daily at 07:00 (a day with no rebuild still publishes the
    # packs that came into the lead window).
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 7 * * *", timezone="UTC"), assets=[MARTS]),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["publish", "packs"],
    doc_md=__doc__,
    params={
        "republish": Param(
            [], type="array", items={"type": "string"},
            description="Inspection ids to publish as a new version even if their numbers are unchanged.",
        ),
    },
)  # fmt: skip
def publish_evidence_packs():
    # No retries: a refusal is for a person to see now; the next marts Asset event runs the DAG again.
    @task(retries=0)
    def check_marts_tested() -> None:
        """Fail, naming the state and what to do, unless audit.marts_state is 'passed'."""
        from probation_evidence.orchestration import warehouse_url
        from probation_evidence.publish import check_marts_publishable

        check_marts_publishable(warehouse_url())

    @task
    def find_due_inspections(logical_date=None, dag_run=None) -> list[dict]:
        from probation_evidence.orchestration import run_date, warehouse_url
        from probation_evidence.publish import due_inspections

        return due_inspections(warehouse_url(), run_date(logical_date, dag_run))

    @task(max_active_tis_per_dagrun=4)
    def render_pack(inspection: dict, params=None) -> str:
        from probation_evidence.orchestration import warehouse_url
        from probation_evidence.publish import publish_pack

        republish = inspection["inspection_id"] in ((params or {}).get("republish") or [])
        return publish_pack(warehouse_url(), inspection, republish=republish)

    @task
    def report_published(paths: list[str]) -> list[str]:
        """The run's list of packs, kept in XCom for the run's record."""
        return sorted(mapped_results(paths))

    due = find_due_inspections()
    check_marts_tested() >> due
    report_published(render_pack.expand(inspection=due))


publish_evidence_packs()
