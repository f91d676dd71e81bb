"""Files in motion and other things in a drop folder that are not (yet) a drop file: uploads in progress
wait for a later run, two files for one slice resolve to the later one every time, and files nobody expects,
names that do not parse and symbolic links are reported as drop events, never passed over without a trace."""

from __future__ import annotations

import io
import os
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from probation_evidence import settings
from probation_evidence.sources import ingest
from probation_evidence.sources.connectors.drop_folders import discover, survey

FAMILY, PROVIDER = "feedback", "N07"
RUN_DATE = date(2026, 9, 30)
HEADER = "Complaint Ref,Region,PDU,Type,Date Received,Date Responded,Quarter End\n"
ROW = "CMP-{n},N07,N07-01,communication,2026-07-02,2026-07-20,2026-09-30\n"
AN_HOUR_AGO = time.time() - 3600


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "drops" / FAMILY / PROVIDER
    path.mkdir(parents=True)
    return path


def _drop(folder: Path, name: str, rows: int = 2, mtime: float | None = AN_HOUR_AGO) -> Path:
    """A complaints CSV of `rows` rows; `mtime` None leaves it just written (as an upload in progress)."""
    path = folder / name
    path.write_text(HEADER + "".join(ROW.format(n=n) for n in range(rows)))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _drop_xlsx(folder: Path, name: str, rows: int, mtime: float) -> Path:
    workbook = Workbook()
    workbook.active.append([h for h in HEADER.strip().split(",")])
    for n in range(rows):
        workbook.active.append(ROW.format(n=n).strip().split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = folder / name
    path.write_bytes(buffer.getvalue())
    os.utime(path, (mtime, mtime))
    return path


def _extract(folder: Path, settle: str = "120") -> dict:
    drops = folder.parents[1]
    with settings.environment(DROP_SETTLE_SECONDS=settle):
        return ingest.extract_files(FAMILY, PROVIDER, RUN_DATE, drops=drops, root=drops.parent / "landing")


def _events(extracted: dict) -> dict[str, dict]:
    return {e["file_name"].rsplit("/", 1)[-1]: e for e in extracted["drop_events"]}


def _loaded(extracted: dict) -> dict[str, int]:
    return {m["period_end_date"]: m["rows"] for m in extracted["manifests"]}


def test_a_file_modified_within_the_settle_time_waits_for_a_later_run(folder):
    path = _drop(folder, "complaints_20260930.csv", mtime=None)  # just written: may still be growing

    extracted = _extract(folder)

    assert extracted["manifests"] == [] and extracted["errors"] == []
    event = _events(extracted)["complaints_20260930.csv"]
    assert event["event"] == "in_motion"
    assert event["file_name"] == "feedback/N07/complaints_20260930.csv"
    assert (event["entity"], event["period_end_date"]) == ("complaints", "2026-09-30")
    assert "DROP_SETTLE_SECONDS" in event["detail"]
    assert datetime.fromisoformat(event["file_modified_at"]).timestamp() == pytest.approx(path.stat().st_mtime)

    os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))  # the upload finished long ago
    again = _extract(folder)
    assert _loaded(again) == {"2026-09-30": 2} and again["drop_events"] == []
    # With the settle time turned off, even a file written this instant is read.
    _drop(folder, "complaints_20260630.csv", mtime=None)
    assert _loaded(_extract(folder, settle="0")) == {"2026-06-30": 2, "2026-09-30": 2}


def test_a_file_dated_long_ago_or_far_ahead_is_not_in_motion(folder):
    # The simulator (and restored archives) stamp files with their arrival time, which may be in the future.
    future = datetime(2027, 6, 1, tzinfo=UTC).timestamp()
    _drop(folder, "complaints_20260930.csv", mtime=future)
    assert _loaded(_extract(folder)) == {"2026-09-30": 2}


@pytest.mark.parametrize(
    "name",
    [
        "complaints_20260930.csv.part",
        "complaints_20260930.csv.filepart",
        "complaints_20260930.csv.crdownload",
        "complaints_20260930.xlsx.partial",
        "complaints_20260930.csv.TMP",
        ".complaints_20260930.csv.tmp",
        "~$complaints_20260930.xlsx",
    ],
)
def test_temporary_upload_names_are_never_read_and_are_reported(folder, name):
    _drop(folder, name)

    extracted = _extract(folder)

    assert extracted["manifests"] == [] and extracted["errors"] == []
    assert _events(extracted)[name]["event"] == "in_motion"
    assert "upload in progress" in _events(extracted)[name]["detail"]


def test_two_files_for_one_slice_the_later_modified_wins_and_the_other_is_reported(folder):
    _drop(folder, "complaints_20260930.csv", rows=2, mtime=AN_HOUR_AGO - 600)
    _drop_xlsx(folder, "complaints_20260930.xlsx", rows=5, mtime=AN_HOUR_AGO)  # the provider's corrected file

    first = _extract(folder)
    second = _extract(folder)

    assert _loaded(first) == {"2026-09-30": 5}
    assert first["manifests"][0]["received_at"] == datetime.fromtimestamp(AN_HOUR_AGO, UTC).isoformat()
    event = _events(first)["complaints_20260930.csv"]
    assert event["event"] == "superseded"
    assert "superseded by complaints_20260930.xlsx" in event["detail"]
    # A rerun chooses the same file, so lands the same batch and reports the same event.
    assert [m["batch_id"] for m in second["manifests"]] == [m["batch_id"] for m in first["manifests"]]
    assert second["drop_events"] == first["drop_events"]


def test_case_variants_of_one_name_resolve_by_time_then_by_name(folder):
    _drop(folder, "Complaints_20260930.CSV", rows=3)
    _drop(folder, "complaints_20260930.csv", rows=4)  # same modification time: the greater name wins

    extracted = _extract(folder)

    assert _loaded(extracted) == {"2026-09-30": 4}
    assert _events(extracted)["Complaints_20260930.CSV"]["event"] == "superseded"
    assert [d.path.name for d in discover(folder.parents[1], FAMILY, PROVIDER)] == ["complaints_20260930.csv"]

    later = AN_HOUR_AGO + 60
    os.utime(folder / "Complaints_20260930.CSV", (later, later))  # now the upper-case one is the later
    assert _loaded(_extract(folder)) == {"2026-09-30": 3}


def test_files_nobody_expects_are_reported(folder):
    names = {
        "complaints_20240331.csv": "before this run's window",  # recorded only if that slice never loaded
        "staff_20260930.csv": "no feedback contract has the entity 'staff'",
        "weekly_caseload_20260927.csv": "it is an entity of workload",
        "complaints_20990930.csv": "in the future",
        "complaints_20260815.csv": "not the end of a quarterly period",
        "complaints_20261399.csv": "not a date",
        "complaints-final.csv": "not a drop file name",
        "notes.txt": "not a drop file name",
    }
    for name in names:
        _drop(folder, name)
    (folder / "archive").mkdir()

    extracted = _extract(folder)

    events = _events(extracted)
    assert set(events) == {*names, "archive"}
    for name, words in names.items():
        assert events[name]["event"] == "unexpected", name
        assert words in events[name]["detail"], (name, events[name]["detail"])
    assert events["archive"]["event"] == "unexpected" and "folder" in events["archive"]["detail"]
    assert events["complaints_20260815.csv"]["period_end_date"] == "2026-08-15"
    assert events["notes.txt"]["entity"] is None and events["notes.txt"]["period_end_date"] is None
    assert extracted["manifests"] == [] and extracted["errors"] == []


def test_symbolic_links_are_refused_never_followed(folder, tmp_path):
    outside = _drop(tmp_path, "complaints_20260930.csv", rows=7)
    (folder / "complaints_20260930.csv").symlink_to(outside)
    (folder / "complaints_20260630.csv").symlink_to(tmp_path / "nowhere.csv")  # dangling

    extracted = _extract(folder)

    assert extracted["manifests"] == [] and extracted["errors"] == []
    events = _events(extracted)
    assert {name: e["event"] for name, e in events.items()} == {
        "complaints_20260930.csv": "refused",
        "complaints_20260630.csv": "refused",
    }
    assert str(outside) in events["complaints_20260930.csv"]["detail"]


def test_a_linked_provider_folder_is_refused(tmp_path):
    real = tmp_path / "elsewhere"
    real.mkdir()
    _drop(real, "complaints_20260930.csv")
    (tmp_path / "drops" / FAMILY).mkdir(parents=True)
    (tmp_path / "drops" / FAMILY / PROVIDER).symlink_to(real, target_is_directory=True)

    found = survey(tmp_path / "drops", FAMILY, PROVIDER)

    assert found.files == []
    assert [(e.file_name, e.event) for e in found.events] == [("feedback/N07", "refused")]


def test_drop_events_have_the_documented_shape(folder):
    _drop(folder, "notes.txt")
    (event,) = _extract(folder)["drop_events"]
    assert set(event) == {"file_name", "event", "entity", "period_end_date", "detail", "file_modified_at"}
    assert event["event"] in {"unexpected", "superseded", "in_motion", "refused"}
    assert datetime.fromisoformat(event["file_modified_at"]).tzinfo is not None


def test_a_file_renamed_away_while_the_folder_is_surveyed_is_no_error(folder):
    from probation_evidence.sources.connectors.drop_folders import _classify

    # Listed as an upload in progress, renamed to its final name before it could be looked at: the run
    # that lists the new name reads it, so the old name is neither an error nor an event.
    assert _classify(folder / "complaints_20260930.csv.part", "x", 120, time.time_ns()) is None
