"""Scoped environment settings: runs that must leave the project's own folders alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from probation_evidence import settings


def test_environment_sets_for_the_block_and_puts_back_what_was_there(monkeypatch, tmp_path):
    monkeypatch.setenv("PACKS_DIR", "/before")
    monkeypatch.delenv("LANDING_DIR", raising=False)
    with pytest.raises(RuntimeError), settings.environment(PACKS_DIR=str(tmp_path), LANDING_DIR="/during"):
        assert settings.packs_dir() == tmp_path and os.environ["LANDING_DIR"] == "/during"
        raise RuntimeError("the block fails")
    assert os.environ["PACKS_DIR"] == "/before"
    assert "LANDING_DIR" not in os.environ


def test_state_folders_put_every_folder_of_a_run_under_one_root(tmp_path):
    with settings.environment(**settings.state_folders(tmp_path)):
        folders = [settings.state_dir(), settings.landing_dir(), settings.drops_dir(), settings.packs_dir()]
    assert all(Path(folder).is_relative_to(tmp_path) for folder in folders)
    assert len(set(folders)) == 4
