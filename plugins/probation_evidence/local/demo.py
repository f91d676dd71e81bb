"""`make demo`: the whole pipeline through Airflow itself, on simulated provider systems.

Starts (or reuses) the warehouse, bootstraps it, starts the simulated provider APIs and writes the file drops,
then runs the nine DAGs for the demo's as-at date (the seven ingest DAGs, `transform_warehouse`, then
`publish_evidence_packs`) in one process through `local/dag_runner.py`, which calls each DAG's `DAG.test()`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator
from datetime import date
from pathlib import Path

from probation_evidence import settings, warehouse
from probation_evidence.local import airflow_env, calibration, embedded
from probation_evidence.simulator.drops import write_drops

INGEST_DAGS = tuple(f"ingest_{family}" for family in settings.FAMILIES)
DAG_ORDER = (*INGEST_DAGS, "transform_warehouse", "publish_evidence_packs")


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


@contextlib.contextmanager
def simulator(seed: int, size: str = "small", chaos: bool = True) -> Generator[tuple[str, str]]:
    """Run the simulated provider APIs in a child process; yields (base URL, token). With `chaos` (the
    demo's default) they fail now and then as real systems do, and the connector's retries are exercised."""
    run_dir = settings.state_dir() / "simulator"
    run_dir.mkdir(parents=True, exist_ok=True)
    port_file, token_file = run_dir / "port", run_dir / "token"
    port_file.unlink(missing_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    argv = [
        sys.executable, "-m", "probation_evidence.simulator", "serve", "--port", "0",
        "--port-file", str(port_file), "--token-file", str(token_file), "--seed", str(seed), "--size", size,
        *(["--chaos"] if chaos else []),
    ]  # fmt: skip
    process = subprocess.Popen(argv)
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the provider simulator did not start (see its output above)")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{int(port_file.read_text())}", token
    finally:
        process.terminate()
        process.wait(timeout=10)
        token_file.unlink(missing_ok=True)


def ensure_dbt_manifest(env: dict[str, str]) -> None:
    """Cosmos parses the DAG from dbt's manifest; build it if this checkout has none yet."""
    project = settings.dbt_project_dir()
    if (project / "target" / "manifest.json").exists():
        return
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [str(dbt), "parse", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet"],
        env=env, check=True,
    )  # fmt: skip


def drop_provider_files(as_at: date, seed: int, size: str = "small") -> None:
    """The file-drop families' providers deliver their files (with late, missing and messy ones)."""
    records = write_drops(settings.drops_dir(), seed, as_at, size)
    dropped = [r for r in records if not r.is_missing]
    late = sum(r.is_late for r in dropped)
    say(
        f"simulated providers dropped {len(dropped)} files under {settings.drops_dir()} "
        f"({late} late, {len(records) - len(dropped)} expected files never sent)"
    )


def run_pipeline(url: warehouse.WarehouseUrl, as_at: date, seed: int, size: str = "small") -> None:
    """Run every DAG end to end through Airflow for one as-at date: ingest, transform, publish."""
    warehouse.bootstrap(url)
    drop_provider_files(as_at, seed, size)
    with simulator(seed, size) as api:
        env = airflow_env.environment(url, api)
        ensure_dbt_manifest(env)
        say("preparing Airflow's metadata database (SQLite)")
        airflow_env.migrate(env)
        runner = [sys.executable, "-m", "probation_evidence.local.dag_runner", as_at.isoformat(), *DAG_ORDER]
        if subprocess.run(runner, env=env, check=False).returncode != 0:
            raise SystemExit("the pipeline failed: the failing DAG and its task logs are above.")


def _calibrate(url: warehouse.WarehouseUrl, seed: int) -> None:
    """Score the indicative bands against the simulator's hidden truth (the demo's data is simulated)."""
    result = calibration.calibrate(url.url(), seed)
    _, md_path = calibration.write(result, settings.project_root() / "output" / "calibration")
    overall = result["all_standards"]
    say(
        f"calibration against the simulator's hidden truth: agreement {overall['agreement']}, "
        f"weighted kappa {overall['weighted_kappa']} (details: {md_path})"
    )


CALIBRATION_DB = "probation_evidence_calibration"


def run_held_out(seeds: list[int], as_at: date, out_dir: Path) -> dict:
    """Run the whole pipeline once per seed on fresh data, score each run, and pool the scores.

    Each run gets its own database (`probation_evidence_calibration`, recreated per seed, dropped at the
    end) and its own landing, drop, pack and Airflow folders, so nothing of the demo's is touched.
    """
    server = embedded.resolve(start=True)
    results = []
    for seed in seeds:
        with (
            tempfile.TemporaryDirectory(prefix=f"calibration-{seed}-") as tmp,
            settings.environment(**settings.state_folders(Path(tmp))),
        ):
            url = warehouse.fresh_database(server, CALIBRATION_DB)
            say(f"held-out calibration: seed {seed}")
            run_pipeline(url, as_at, seed)
            result = calibration.calibrate(url.url(), seed)
            calibration.write(result, out_dir / f"seed-{seed}")
            results.append(result)
            warehouse.drop_database(server, CALIBRATION_DB)
    combined = calibration.combine(results)
    calibration.write_combined(combined, out_dir)
    return combined


#: Years of history each size's demo loads: the small demo keeps the standard windows (13 weeks of weekly
#: returns); the national one loads the national year (52 weeks of weekly returns, 4 quarters, 12 months).
DEMO_HISTORY_YEARS = {"small": None, "national": 1}


def main(
    as_at: date = settings.DEMO_AS_AT, seed: int | None = None, size: str = "small", history_years: int | None = None
) -> None:
    history_years = history_years or DEMO_HISTORY_YEARS[size]
    if history_years:
        # Read by the simulator (in this process and its API child) and by every Airflow task.
        os.environ[settings.HISTORY_YEARS_ENV] = str(history_years)
    say(
        f"simulated providers: {size} size, "
        + (f"{history_years} year(s) of history" if history_years else "standard windows")
    )
    own_warehouse = not os.environ.get("WAREHOUSE_URL")
    say("starting the embedded warehouse" if own_warehouse else "using the warehouse in WAREHOUSE_URL")
    url = embedded.resolve(start=True)
    run_pipeline(url, as_at, seed or settings.simulator_seed(), size)
    _calibrate(url, seed or settings.simulator_seed())
    packs = sorted(settings.packs_dir().rglob("*.html"))
    print()
    say(f"{len(packs)} evidence packs under {settings.packs_dir()} (each as HTML, with .pdf and .csv beside it):")
    for pack in packs:
        print(f"    {pack}")
    print()
    say(f"warehouse: {url.masked}")
    print("    query the marts:   .venv/bin/probation-evidence warehouse psql")
    print("    e.g.  select * from marts.fct_indicator_values order by value desc;")
    print("    planners' questions:  .venv/bin/probation-evidence query --list")
    print(f"    e.g.  .venv/bin/probation-evidence query packs_due --param as_at={as_at.isoformat()}")
    if own_warehouse:
        print("    the embedded warehouse keeps running; stop it with:  make stop")
