"""`make up`: the pipeline under a real Airflow scheduler, as data engineers run it.

Starts (or reuses) the warehouse and bootstraps it, writes the simulated providers' file drops, starts the
simulated provider APIs, prepares Airflow's SQLite metadata database, then runs Airflow's four services as
separate background processes: `api-server` (UI and REST API), `scheduler` (LocalExecutor: tasks run in
processes it forks), `dag-processor` (parses `dags/`) and `triggerer`. Each runs in a process group of its
own, logs to `<state>/stack/<name>.log` and has its pid in `<state>/stack/<name>.pid`, so `down` can stop
it and everything it started. The project's DAGs are unpaused (Airflow creates them paused), so the
schedules and the Asset chain (ingest -> transform -> publish) run by themselves.

The UI login is SimpleAuthManager's user `admin`; its password is generated once into a 0600 file under
the state folder and shown only by `up` on the user's terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

from probation_evidence import settings, warehouse
from probation_evidence.local import airflow_env, demo, embedded

#: Airflow's services, each its own process (and process group).
SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
SIMULATOR = "simulator"
#: The UI / REST API user (SimpleAuthManager) and its role.
USER = "admin"
DEFAULT_PORT = 8080
#: Imported once by the scheduler's forkserver, so that every task process starts with them loaded.
PRELOAD = (
    "airflow", "airflow.executors.local_executor", "airflow.sdk", "airflow.sdk.execution_time.task_runner",
    "cosmos", "dbt.cli.main", "dbt.adapters.postgres", "psycopg", "pyarrow", "httpx",
)  # fmt: skip
START_TIMEOUT_S = 180


class StackError(RuntimeError):
    """The stack could not be started, reached or stopped; the message says what to do."""


def stack_dir() -> Path:
    return settings.state_dir() / "stack"


def dag_ids() -> list[str]:
    """The project's DAGs: one per file in dags/, the dag_id being the file's name (a house rule)."""
    return sorted(path.stem for path in (settings.project_root() / "dags").glob("*.py") if path.stem != "__init__")


free_port = embedded.free_port


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _write_secret(path: Path, text: str) -> None:
    path.unlink(missing_ok=True)
    airflow_env.write_secret(path, text)


# ------------------------------------------------------------------------------------------------ processes
def _pid_file(name: str) -> Path:
    return stack_dir() / f"{name}.pid"


def log_file(name: str) -> Path:
    return stack_dir() / f"{name}.log"


#: The processes this Python process started (a child not yet past exec shows its parent's command line).
_children: dict[int, subprocess.Popen] = {}


def _pid(name: str) -> int | None:
    """The recorded pid of a service if that process is still alive (and is still ours)."""
    try:
        pid = int(_pid_file(name).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if pid in _children:
        return pid if _children[pid].poll() is None else None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return None
    # A recycled pid belongs to another program: ours always run this project's Python.
    with contextlib.suppress(OSError):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if not any(b"airflow" in part or b"probation_evidence" in part for part in cmdline):
            return None
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return None  # exited, not yet reaped by its parent
    return pid


def _spawn(name: str, argv: list[str], env: dict[str, str]) -> int:
    """Start a background process in a new process group, logging to its file; record its pid."""
    stack_dir().mkdir(parents=True, exist_ok=True)
    with open(log_file(name), "ab") as log:
        process = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    _pid_file(name).write_text(str(process.pid))
    _children[process.pid] = process
    return process.pid


def _stop(name: str, grace_s: float) -> bool:
    """SIGTERM the service, wait up to `grace_s`, then SIGKILL what is left. False if it was not running.

    Signals go to every process of the service's session, not only its process group: the scheduler's
    LocalExecutor workers and their task processes put themselves in process groups of their own, and
    would outlive a group signal (orphaned, still running tasks)."""
    pid = _pid(name)
    _pid_file(name).unlink(missing_ok=True)
    if pid is None:
        return False
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        for member in _session(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(member, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if pid in _children:
                _children[pid].poll()  # reap our own child, else it lingers as a zombie
            if not _session(pid):
                _children.pop(pid, None)
                return True
            time.sleep(0.2)
    return True


def _session(sid: int) -> list[int]:
    """The live processes of a session (each service is started as a session leader); zombies are gone."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().split(") ", 1)[1].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                members.append(int(stat.parent.name))
    return members


# ------------------------------------------------------------------------------------------------ state
@dataclass(frozen=True)
class Stack:
    """A running stack: where its API is and how to log in (the password is read from its 0600 file)."""

    port: int
    simulator_url: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def password_file() -> Path:
        return stack_dir() / "simple_auth_manager_passwords.json"

    def password(self) -> str:
        return json.loads(self.password_file().read_text())[USER]

    def client(self, timeout_s: float = 30.0):
        """An httpx client for the REST API (`/api/v2/...`), authenticated with a fresh JWT."""
        response = httpx.post(
            f"{self.url}/auth/token", json={"username": USER, "password": self.password()}, timeout=timeout_s
        )
        if response.status_code not in (200, 201):
            raise StackError(f"logging in to the Airflow API failed: HTTP {response.status_code}")
        token = response.json()["access_token"]
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s)


def _info_file() -> Path:
    return stack_dir() / "stack.json"


def current() -> Stack | None:
    """The stack whose services are all running, or None."""
    if not _info_file().exists() or any(_pid(name) is None for name in (*SERVICES, SIMULATOR)):
        return None
    info = json.loads(_info_file().read_text())
    return Stack(port=info["port"], simulator_url=info["simulator_url"])


def simulator_token() -> str:
    """The running simulator's bearer token, from its 0600 file."""
    return (stack_dir() / "simulator" / "token").read_text().strip()


def status() -> dict[str, int | None]:
    """Each process of the stack and its pid (None: not running)."""
    return {name: _pid(name) for name in (*SERVICES, SIMULATOR)}


# ------------------------------------------------------------------------------------------------ start
def _start_simulator(seed: int) -> tuple[str, str]:
    """The simulated provider APIs in the background; (base URL, token). The token stays in a 0600 file."""
    run_dir = stack_dir() / "simulator"
    port_file, token_file = run_dir / "port", run_dir / "token"
    port_file.unlink(missing_ok=True)
    token = secrets.token_urlsafe(32)
    _write_secret(token_file, token)
    argv = [
        sys.executable, "-m", "probation_evidence.simulator", "serve", "--port", "0",
        "--port-file", str(port_file), "--token-file", str(token_file), "--seed", str(seed), "--size", "small",
        "--chaos",
    ]  # fmt: skip
    _spawn(SIMULATOR, argv, dict(os.environ))
    deadline = time.monotonic() + 30
    while not (port_file.exists() and port_file.read_text().strip()):
        if _pid(SIMULATOR) is None or time.monotonic() > deadline:
            raise StackError(f"the provider simulator did not start: see {log_file(SIMULATOR)}")
        time.sleep(0.1)
    return f"http://127.0.0.1:{int(port_file.read_text())}", token


def import_connections(env: dict[str, str], connections: dict[str, dict]) -> None:
    """Store connections in Airflow's metadata database (encrypted with the checkout's Fernet key) with
    `airflow connections import --overwrite`, from a 0600 file removed at once: a secret never reaches a
    command line or a log. The stack keeps the provider API connections there, not in `AIRFLOW_CONN_*`
    variables (which would win over the database), so a token is rotated the way docs/operations.md says,
    with no restart: tasks read connections when they run."""
    path = stack_dir() / f"connections-{secrets.token_hex(4)}.json"
    _write_secret(path, json.dumps(connections))
    try:
        result = airflow_env.airflow(
            ["connections", "import", "--overwrite", str(path)], env, check=False, capture=True
        )
    finally:
        path.unlink(missing_ok=True)
    if result.returncode != 0:
        raise StackError(f"airflow connections import failed: {(result.stdout + result.stderr)[-1000:]}")


def environment(url: warehouse.WarehouseUrl, port: int) -> dict:
    """The environment of every service: the local Airflow's, plus the scheduler's executor, the API's port,
    the log servers' ports and the UI user. The provider API connections live in the metadata database
    (`import_connections`), the warehouse's in `AIRFLOW_CONN_WAREHOUSE`."""
    env = airflow_env.environment(url)
    base_url = f"http://127.0.0.1:{port}"
    env.update(
        {
            # Five processes write one SQLite file: a writer waits up to 60 s for the lock (pysqlite's
            # `timeout`, default 5 s) instead of failing with "database is locked", as `airflow backfill
            # create` did here while the scheduler was busy.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] + "?timeout=60",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": env.get("AIRFLOW__CORE__PARALLELISM", "4"),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            # The dag-processor re-parses every file each interval (default 30 s): ~3 s of CPU per file, half
            # a core on a two-core machine. A changed DAG file is still picked up within this interval.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": env.get(
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL", "120"
            ),
            # Task processes are forked from the LocalExecutor's workers; started from a forkserver that has
            # already imported dbt and Cosmos, each dbt task skips importing them (seconds per task, ~50 dbt
            # tasks per transform run). See [core] mp_start_method in Airflow 3.3's configuration reference.
            "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
            "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": ",".join(PRELOAD),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(Stack.password_file()),
            # Task log servers: free ports, never the fixed defaults (8793, 8794) another Airflow may hold.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }
    )
    return env


def ensure_wal(database: Path) -> str:
    """SQLite's write-ahead log lets the services read while one writes. Airflow already sets it on every
    connection it opens (`PRAGMA journal_mode=WAL`, airflow/utils/orm_event_handlers.py), and the mode
    persists in the file; this checks it and sets it if a database was made otherwise."""
    with contextlib.closing(sqlite3.connect(database)) as conn:
        mode = conn.execute("pragma journal_mode").fetchone()[0]
        if mode.lower() != "wal":
            mode = conn.execute("pragma journal_mode=wal").fetchone()[0]
    if mode.lower() != "wal":
        raise StackError(f"could not put {database} in WAL mode (journal_mode is {mode})")
    return mode


def _wait(what: str, check, timeout_s: float, interval_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        dead = [name for name in SERVICES if _pid(name) is None]
        if dead:
            raise StackError(f"{', '.join(dead)} exited while waiting for {what}: see {log_file(dead[0])}")
        try:
            result = check()
        except Exception as error:  # not up yet: connection refused, 401 before the auth manager is ready
            last_error = error
            result = None
        if result:
            return result
        time.sleep(interval_s)
    raise StackError(f"timed out after {timeout_s:.0f}s waiting for {what} (last: {last_error}); logs: {stack_dir()}")


def _healthy(stack: Stack) -> bool:
    health = httpx.get(f"{stack.url}/api/v2/monitor/health", timeout=5).json()
    return all(health.get(part, {}).get("status") == "healthy" for part in ("metadatabase", "scheduler"))


#: The id prefix of the runs `quiet` start records in place of each DAG's current interval.
HELD_PREFIX = "held__"


def _hold_current_interval(api, dag: dict) -> None:
    """Keep the scheduler from running a time-scheduled DAG's current interval when it is unpaused.

    Unpaused, a DAG with `catchup=False` is run at once for its latest interval (today's), unless a run for
    that logical date exists: the scheduler then skips it and moves on to the next interval (scheduler_job_
    runner `_create_dag_runs`). So a run for it is recorded while the DAG is still paused (it cannot start)
    and marked failed at once, with a note saying why. Used by tests and benchmarks, which trigger the runs
    they measure and want nothing else competing for the executor's slots."""
    logical_date = dag.get("next_dagrun_logical_date")
    if not logical_date:
        return  # scheduled on assets only: nothing runs until an event
    run_id = HELD_PREFIX + logical_date
    body = {"dag_run_id": run_id, "logical_date": logical_date, "note": "not run: the stack was started quiet"}
    created = api.post(f"/api/v2/dags/{dag['dag_id']}/dagRuns", json=body)
    if created.status_code not in (200, 409):
        created.raise_for_status()
    api.patch(f"/api/v2/dags/{dag['dag_id']}/dagRuns/{run_id}", json={"state": "failed"}).raise_for_status()


def _parsed_and_unpaused(stack: Stack, expected: list[str], quiet: bool = False) -> list[str]:
    """Unpause each project DAG once the dag-processor has parsed it; truthy when all are, and unpaused."""
    with stack.client() as api:
        errors = api.get("/api/v2/importErrors").json().get("import_errors", [])
        if errors:
            detail = "; ".join(f"{e['filename']}: {e['stack_trace'].strip().splitlines()[-1]}" for e in errors)
            raise StackError(f"DAG files failed to import: {detail}")
        found = {d["dag_id"]: d for d in api.get("/api/v2/dags", params={"limit": 100}).json()["dags"]}
        for dag_id in expected:
            if dag_id in found and found[dag_id]["is_paused"]:
                if quiet:
                    _hold_current_interval(api, found[dag_id])
                api.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
        ready = [dag_id for dag_id in expected if dag_id in found and not found[dag_id]["is_paused"]]
    return expected if ready == expected else []


def up(
    url: warehouse.WarehouseUrl,
    port: int | None = None,
    as_at: date = settings.DEMO_AS_AT,
    seed: int | None = None,
    timeout_s: float = START_TIMEOUT_S,
    quiet: bool = False,
    say=print,
) -> Stack:
    """Start the stack (a no-op returning the running one if it is already up); returns when the API is
    healthy and every project DAG is parsed and unpaused. `quiet`: the DAGs' current intervals are not run
    (see `_hold_current_interval`); only what is triggered, backfilled or asset-triggered runs."""
    running = current()
    if running:
        say(f"==> the Airflow stack is already running at {running.url}")
        return running
    down(quiet=True)  # a partly running stack (a service died): stop what is left, then start afresh
    port = port or int(os.environ.get("AIRFLOW_PORT", DEFAULT_PORT))
    if _port_in_use(port):
        raise StackError(f"port {port} is in use: set AIRFLOW_PORT to a free port")
    seed = seed or settings.simulator_seed()
    stack_dir().mkdir(parents=True, exist_ok=True)
    if not Stack.password_file().exists():
        _write_secret(Stack.password_file(), json.dumps({USER: secrets.token_urlsafe(18)}))

    try:
        return _start(url, port, as_at, seed, timeout_s, quiet, say)
    except BaseException:  # whatever had started is stopped: a failed `up` leaves nothing running
        down(quiet=True)
        raise


def _start(url, port: int, as_at: date, seed: int, timeout_s: float, quiet: bool, say) -> Stack:
    say("==> bootstrapping the warehouse")
    warehouse.bootstrap(url)
    demo.drop_provider_files(as_at, seed)
    say("==> starting the simulated provider APIs")
    api = _start_simulator(seed)
    env = environment(url, port)
    demo.ensure_dbt_manifest(env)
    say("==> preparing Airflow's metadata database (SQLite, WAL)")
    airflow_env.migrate(env)
    ensure_wal(airflow_env.airflow_home() / "airflow.db")
    import_connections(env, airflow_env.api_connections(*api))
    airflow = str(Path(sys.executable).with_name("airflow"))
    for name in SERVICES:  # each under a supervisor that restarts it if it dies (`supervise` says why)
        _spawn(name, [sys.executable, "-m", "probation_evidence.local.supervise", "--", airflow, name], env)
    stack = Stack(port=port, simulator_url=api[0])
    _info_file().write_text(json.dumps({"port": port, "simulator_url": api[0]}))
    say(f"==> started {', '.join(SERVICES)} (logs in {stack_dir()}); waiting for the API and the DAGs")
    _wait("the API server and scheduler to be healthy", lambda: _healthy(stack), timeout_s)
    _wait("every DAG to be parsed", lambda: _parsed_and_unpaused(stack, dag_ids(), quiet), timeout_s)
    return stack


def down(grace_s: float = 20.0, quiet: bool = False) -> list[str]:
    """Stop Airflow's services and the simulator the stack started (never the warehouse); what was stopped."""
    stopped = [name for name in (*SERVICES, SIMULATOR) if _stop(name, grace_s)]
    _info_file().unlink(missing_ok=True)
    (stack_dir() / "simulator" / "token").unlink(missing_ok=True)
    if not quiet:
        print(f"stopped: {', '.join(stopped)}" if stopped else "the Airflow stack was not running")
    return stopped


def login_message(stack: Stack) -> Iterator[str]:
    """What the user needs to open the UI: shown once, on their terminal, by `up` (never logged)."""
    yield f"==> Airflow UI: {stack.url}"
    yield f"    login: {USER} / {stack.password()}   (kept in {Stack.password_file()}, mode 0600)"
    yield "    stop it with:  make stop   (or .venv/bin/probation-evidence airflow down: Airflow only)"
