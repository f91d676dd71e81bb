"""`make test`: the real-scheduler suite (tests/scheduler), then the transform's fault runs (tests/faults),
beside every other test, on one test server.

The scheduler suite spends most of its time waiting on Airflow (scheduler loops, task start-up, the
executor's queue): measured, 280 s of CPU in 670 s on two cores. Run one after the other the two would take
about 25 minutes; side by side, the scheduler suite's waiting overlaps the rest. The fault runs (their own
embedded warehouse, ~4 minutes) follow it in the same session: on a clean clone the main session took 1079 s
with them and the scheduler session 673 s, so they balance the two. Each session has its own databases and
Airflow home (`PROBATION_EVIDENCE_TEST_DB`), on the same server: the embedded test warehouse, started here
unless `WAREHOUSE_URL` names one. The second session's output is printed when it ends; the exit status
fails if either session failed.

    python tests/run_suites.py [pytest args for the main session]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from probation_evidence.local import embedded  # noqa: E402  (the package is found through the line above)

SCHEDULER_SUITE = "tests/scheduler"
#: The suites of the session beside the main one, in order.
BESIDE = (SCHEDULER_SUITE, "tests/faults")


def main(argv: list[str]) -> int:
    server = None
    env = dict(os.environ)
    if not env.get("WAREHOUSE_URL"):
        server = embedded.EmbeddedWarehouse(ROOT / ".state" / "test-warehouse")
        was_running = server.is_running()
        # The server's own URL, its parameters only: `.url()` would add this process's session limits, and a
        # URL's own values win over the settings the tests set (test_session_limits).
        env["WAREHOUSE_URL"] = server.start().plain_url()
    base_db = env.get("PROBATION_EVIDENCE_TEST_DB", "probation_evidence_test")
    log_dir = ROOT / ".state" / "test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / "scheduler-suite.log"
    pytest = [sys.executable, "-m", "pytest"]
    try:
        with log.open("w") as out:
            started = time.monotonic()
            scheduler = subprocess.Popen(
                [*pytest, *BESIDE],
                env={**env, "PROBATION_EVIDENCE_TEST_DB": f"{base_db}_sched"},
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
            print(f"==> {' and '.join(BESIDE)} run beside the other tests (output: {log})", flush=True)
            ignored = [arg for suite in BESIDE for arg in ("--ignore", suite)]
            main_status = subprocess.call([*pytest, *ignored, *argv], env=env, cwd=ROOT)
            scheduler_status = scheduler.wait()
        beside = " and ".join(BESIDE)
        print(f"\n==> {beside} ({time.monotonic() - started:.0f} s, exit {scheduler_status}):", flush=True)
        print(log.read_text(errors="replace"), flush=True)
    finally:
        if server is not None and not was_running:
            server.stop()
    return main_status or scheduler_status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
