-- Whether the marts are a complete, tested build. The transform DAG sets 'building' before dbt touches
-- anything and 'passed' only in its last task, after every model built and every dbt test passed; a failed
-- build leaves 'failed' (or 'building' if the failure hook could not reach the warehouse). The publish DAG
-- freezes packs only while the state is 'passed', so a pack is never made from half-built or untested marts.
-- One row at most (the singleton column can only be true); no row means the marts were never built.
-- No timestamp: rebuilding identical marts leaves this row exactly as it was (runs are timed in Airflow).
create table if not exists audit.marts_state (
    singleton boolean primary key default true check (singleton),
    status text not null check (status in ('building', 'passed', 'failed')),
    detail text,
    built_from jsonb
);
-- Warehouses bootstrapped before the column existed (bootstrap is rerun by every deploy and demo).
alter table audit.marts_state add column if not exists built_from jsonb;
comment on table audit.marts_state is
    'Singleton: whether the marts are a complete build whose dbt tests all passed (publish requires passed).';
comment on column audit.marts_state.status is
    'building: dbt is (or was, when it died) rebuilding the marts; passed: every model built and every test '
    'passed; failed: the last build failed (detail says which task).';
comment on column audit.marts_state.detail is
    'Why: for failed, the task that failed and its error; otherwise a fixed sentence (no run id, so reruns match).';
comment on column audit.marts_state.built_from is
    'What the last passed build was built from: a digest of the dbt project and a fingerprint per source '
    '(build_plan.py). The next build leaves a model as it is when nothing it reads changed. Null after a '
    'failed build: the next one rebuilds everything.';

grant select, insert, update on audit.marts_state to warehouse_transformer;
grant select on audit.marts_state to warehouse_publisher, planner_reader;
