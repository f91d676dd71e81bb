"""The local stack's services are restarted when they die, and stop for good when told to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from probation_evidence.local.supervise import supervise

#: A service that fails on its first start (as the scheduler does on a StaleDataError) and then runs.
FLAKY = """
import pathlib, sys, time
marker = pathlib.Path(sys.argv[1])
starts = int(marker.read_text()) + 1 if marker.exists() else 1
marker.write_text(str(starts))
if starts == 1:
    sys.exit(3)
time.sleep(60)
"""


def test_a_service_that_dies_is_started_again_and_stops_without_a_restart_when_told(tmp_path):
    marker = tmp_path / "starts"
    wrapper = subprocess.Popen(
        [sys.executable, "-m", "probation_evidence.local.supervise", "--", sys.executable, "-c", FLAKY, str(marker)],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (marker.exists() and marker.read_text() == "2") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.read_text() == "2", "the service that exited with 3 was not started again"
    wrapper.send_signal(signal.SIGTERM)
    assert wrapper.wait(timeout=30) != 0  # the child's status on SIGTERM, not a clean exit
    output = wrapper.stdout.read()
    assert "exited with 3; restarting in 1 s" in output
    assert marker.read_text() == "2", "told to stop, it must not start the service again"
    assert not [pid for pid in _session(wrapper.pid) if pid != os.getpid()], "the service outlived its supervisor"


def test_a_clean_exit_is_not_restarted_and_too_many_failures_give_up(tmp_path):
    starts = tmp_path / "starts"
    count_start = (
        f"import pathlib; p = pathlib.Path({str(starts)!r}); p.write_text(p.read_text() + 'x' if p.exists() else 'x')"
    )
    assert supervise([sys.executable, "-c", count_start]) == 0
    assert starts.read_text() == "x", "a clean exit was started again"
    starts.unlink()
    failing = f"{count_start}; import sys; sys.exit(5)"
    assert supervise([sys.executable, "-c", failing], max_restarts=1, window_s=60) == 5
    assert starts.read_text() == "xx", "one restart allowed, then it gives up"


def _session(sid: int) -> list[int]:
    from probation_evidence.local.stack import _session as members

    return members(sid)


def test_the_callers_signal_handlers_are_put_back():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    supervise([sys.executable, "-c", "pass"])
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
