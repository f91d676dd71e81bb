"""The end-to-end suite's one pipeline run, shared by every module here.

The whole demo pipeline runs once per session, through Airflow, into the session's test database;
each module reads the warehouse it built. Modules that change the warehouse put it back as it was.
"""

from __future__ import annotations

import pytest

from probation_evidence import settings
from probation_evidence.local import demo


def _state_environment(mp: pytest.MonkeyPatch, state) -> None:
    for name, folder in settings.state_folders(state).items():
        mp.setenv(name, folder)


@pytest.fixture(scope="session")
def _pipeline_run(tmp_path_factory, warehouse_url):
    """Run the demo pipeline once; its state folders are pointed at only while a module uses them."""
    state = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as mp:
        _state_environment(mp, state)
        demo.run_pipeline(warehouse_url, settings.DEMO_AS_AT, settings.DEMO_SEED)
    return state


@pytest.fixture(scope="module")
def pipeline_state(_pipeline_run):
    """The built pipeline's state folder, with the environment pointing at it for the module's tests."""
    with pytest.MonkeyPatch.context() as mp:
        _state_environment(mp, _pipeline_run)
        yield _pipeline_run
