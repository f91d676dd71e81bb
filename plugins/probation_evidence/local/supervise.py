"""Keep one service of the local Airflow stack running: restart it when it dies, as systemd or Kubernetes would.

    python -m probation_evidence.local.supervise [--max-restarts 5] [--window-s 600] -- airflow scheduler

Airflow's scheduler exits on errors it does not handle inside its loop, expecting a supervisor to start it
again. One seen here: on the local SQLite metadata, a backfill command and the scheduler updating the same
DAG run at once ends the scheduler with SQLAlchemy's `StaleDataError`. `make up` starts every service under
this wrapper. It runs the command as its child, in its own session (the stack stops a service by signalling
every process of that session), and starts it again after a failure exit, waiting 1 s, then 2, 4, ... up to
30 s. More than `--max-restarts` failures within `--window-s` seconds means something is wrong for good: it
then stops and exits with the child's status, and the service shows as down. A clean exit (status 0) is not
restarted. SIGTERM or SIGINT stops the child and the wrapper without a restart.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from collections import deque


def say(message: str) -> None:
    print(f"supervise: {message}", flush=True)


def supervise(argv: list[str], max_restarts: int = 5, window_s: float = 600.0) -> int:
    """Run `argv` until it exits cleanly, is told to stop, or fails more than `max_restarts` times in `window_s`."""
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        failures: deque[float] = deque()
        delay = 1.0
        while True:
            child = subprocess.Popen(argv)
            code = child.wait()
            if stopping or code == 0:
                return code
            now = time.monotonic()
            failures.append(now)
            while failures and now - failures[0] > window_s:
                failures.popleft()
            if len(failures) > max_restarts:
                say(f"{argv[-1]} exited with {code}, {len(failures)} failures in {window_s:.0f} s: not restarting")
                return code
            say(f"{argv[-1]} exited with {code}; restarting in {delay:.0f} s ({len(failures)} in {window_s:.0f} s)")
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not stopping:
                time.sleep(0.1)
            if stopping:
                return code
            delay = min(delay * 2, 30.0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-restarts", type=int, default=5)
    parser.add_argument("--window-s", type=float, default=600.0)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the command to keep running")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    return supervise(command, args.max_restarts, args.window_s)


if __name__ == "__main__":
    sys.exit(main())
