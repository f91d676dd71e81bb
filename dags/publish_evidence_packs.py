"""
### Publish evidence packs ahead of inspections

Runs when the transform DAG emits the `marts` Asset (the marts were rebuilt and every dbt test passed)
and daily at 07:00 UTC. Its first task refuses to publish unless `audit.marts_state` says `passed`: a
pack is never frozen from half-built or untested marts (the error names the state and what to do). While a
`transform_warehouse` run is queued or running the marts are `building` for a reason: the run is then
skipped, not failed (no alert), as that rebuild's own `marts` event runs this DAG again.
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

With approval on (`PACK_APPROVAL_REQUIRED=true`, or the `require_approval` param), a new version is first
rendered to the staging folder (`PACK_STAGING_DIR`, default beside the packs folder) and recorded nothing.
For each one an `approve_pack.decide` task waits for a planner (Airflow's Required Actions page, or
`PATCH /api/v2/dags/publish_evidence_packs/dagRuns/{run_id}/taskInstances/approve_pack.decide/{map_index}/hitlDetails`
with `{"chosen_options": ["Approve"]}`). Approve: the version is recorded and frozen as above, after the
warehouse is read again and found to give the same pack, and its files move to the published folder.
Reject (or no answer within `PACK_APPROVAL_TIMEOUT_HOURS`, default 72): nothing is recorded and the staged
files are removed; `approve_pack.record_decision` says which.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task, task_group

from probation_evidence import settings
from probation_evidence.orchestration.connections import warehouse_url
from probation_evidence.orchestration.defaults import (
    DAG_FAILURE_CALLBACKS,
    DEFAULT_ARGS,
    MARTS,
    START_DATE,
    run_date,
    run_deadline,
    skip_while_rebuilding,
)
from probation_evidence.orchestration.ingest_dag import mapped_results


@dag(
    # On every tested rebuild of the marts, and daily at 07:00 (a day with no rebuild still publishes the
    # packs that came into the lead window).
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 7 * * *", timezone="UTC"), assets=[MARTS]),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=DAG_FAILURE_CALLBACKS,
    # A run still unfinished DAG_RUN_DEADLINE_MINUTES after it was queued raises an alert (the triggerer runs it).
    deadline=run_deadline(),
    tags=["publish", "packs"],
    doc_md=__doc__,
    params={
        "republish": Param(
            [], type="array", items={"type": "string"},
            description="Inspection ids to publish as a new version even if their numbers are unchanged.",
        ),
        "require_approval": Param(
            settings.pack_approval_required(), type="boolean",
            description="Stage each new pack version and record it only once a planner approves it"
            " (default: PACK_APPROVAL_REQUIRED).",
        ),
    },
)  # fmt: skip
def publish_evidence_packs():
    # Each task imports packs (publish, approval) when it runs: a DAG file imports only orchestration and
    # settings, so that parsing it stays fast and loads no rendering or database code.
    # No retries: a refusal is for a person to see now; the next marts Asset event runs the DAG again.
    @task(retries=0)
    def check_marts_tested(ti=None) -> None:
        """Fail, naming the state and what to do, unless audit.marts_state is 'passed'; skip (no alert) while
        a transform run is rebuilding the marts, whose own Asset event runs this DAG again."""
        from probation_evidence.packs.publish import MartsNotPublishable, check_marts_publishable

        try:
            check_marts_publishable(warehouse_url())
        except MartsNotPublishable as refused:
            skip_while_rebuilding(refused, ti)
            raise

    @task
    def find_due_inspections(logical_date=None, dag_run=None) -> list[dict]:
        from probation_evidence.packs.publish import due_inspections

        return due_inspections(warehouse_url(), run_date(logical_date, dag_run))

    @task(max_active_tis_per_dagrun=4)
    def render_pack(inspection: dict, params=None, ti=None) -> str | dict:
        """Publish the pack (its HTML path); with approval on, stage a new version instead (what was staged).
        Skipped if a rebuild of the marts started since the check: the rebuild's event publishes it."""
        from probation_evidence.packs.approval import stage_pack
        from probation_evidence.packs.publish import MartsNotPublishable, publish_pack

        republish = inspection["inspection_id"] in ((params or {}).get("republish") or [])
        try:
            if (params or {}).get("require_approval"):
                return stage_pack(warehouse_url(), inspection, republish=republish)
            return publish_pack(warehouse_url(), inspection, republish=republish)
        except MartsNotPublishable as refused:
            skip_while_rebuilding(refused, ti)
            raise

    @task
    def report_published(paths: list) -> list[str]:
        """The run's list of packs, kept in XCom for the run's record (a staged pack: its staged HTML)."""
        from probation_evidence.packs.approval import rendered_path

        return sorted(rendered_path(result) for result in mapped_results(paths))

    @task
    def awaiting_approval(rendered: list) -> list[dict]:
        """The new versions staged for a planner's approval (none unless approval is on)."""
        from probation_evidence.packs.approval import staged_versions

        return staged_versions(mapped_results(rendered))

    # One approval per pack, not one for the run: each is recorded (or discarded) as soon as a planner
    # answers for it, and a doubt about one pack does not hold the others back.
    @task_group
    def approve_pack(staged: dict):
        @task(multiple_outputs=True)
        def approval_request(staged: dict) -> dict:
            from probation_evidence.packs.approval import approval_request

            return approval_request(staged)

        # Safe to retry: a version already recorded by this approval is not recorded twice.
        @task(multiple_outputs=False)
        def record_decision(staged: dict, decision: dict) -> dict:
            """Approve: record the version and move its files to the published folder. Reject: remove them."""
            from probation_evidence.packs.approval import record_decision

            return record_decision(warehouse_url(), staged, decision)

        request = approval_request(staged)
        decide = HITLOperator(
            task_id="decide",
            subject=request["subject"],
            body=request["body"],
            options=["Approve", "Reject"],
            defaults=["Reject"],  # taken when nobody answers within the response timeout
            response_timeout=timedelta(hours=settings.pack_approval_timeout_hours()),
            retries=0,  # a planner is asked once per staged version
        )
        record_decision(staged, decide.output)

    due = find_due_inspections()
    check_marts_tested() >> due
    rendered = render_pack.expand(inspection=due)
    report_published(rendered)
    approve_pack.expand(staged=awaiting_approval(rendered))


publish_evidence_packs()
