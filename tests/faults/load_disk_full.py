"""Run by tests/faults/test_load_faults.py in a child process whose landing zone runs out of space.

    python load_disk_full.py <landing root> <tmpfs|fsize>

`tmpfs`: the landing root is a small tmpfs mounted in this process's private mount namespace (the test
starts it under `unshare --user --map-root-user --mount`), so writing past it fails with ENOSPC, a real
full disk. `fsize`: where user namespaces are not allowed, RLIMIT_FSIZE caps the size of any file this
process writes (Python ignores SIGXFSZ, so the write fails with EFBIG instead). Either way `land_table` sees
its write fail part way.

It lands and loads a small slice (fits), then tries to land a new, larger version of the same slice
(does not fit), then loads the slice again, and prints what it saw as one JSON object on stdout. The
warehouse URL comes from the environment (PE_FAULT_WAREHOUSE_URL), never the command line.
"""

from __future__ import annotations

import json
import os
import random
import resource
import string
import sys
from datetime import date
from pathlib import Path

PROVIDER = "N53"
PERIOD = date(2025, 6, 30)
FSIZE_LIMIT = 512 * 1024  # bytes: the small file is ~10 kB, the large one several MB


def _table(rows: int, text_bytes: int):
    """Staff rows; `text_bytes` of incompressible text in team_code make the file as large as needed."""
    import pyarrow as pa

    from probation_evidence.reference.registry import pdus_by_region
    from probation_evidence.sources.contracts.staffing import STAFF as STAFFING_STAFF

    rng = random.Random(rows)
    pdu = pdus_by_region()[PROVIDER][0].pdu_code
    noise = ["".join(rng.choices(string.ascii_letters, k=text_bytes)) for _ in range(rows)]
    values = {
        "staff_id": [f"STF-{i:012x}" for i in range(rows)], "provider_id": [PROVIDER] * rows,
        "pdu_code": [pdu] * rows, "team_code": noise, "grade": ["PO"] * rows, "fte": [1.0] * rows,
        "start_date": ["2020-01-06"] * rows, "leave_date": [None] * rows, "as_at_date": [PERIOD.isoformat()] * rows,
    }  # fmt: skip
    types = {"fte": pa.float64()}
    return pa.table({c: pa.array(values[c], types.get(c, pa.string())) for c in STAFFING_STAFF.column_names})


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def main() -> None:
    from probation_evidence.sources import ingest
    from probation_evidence.sources.contracts.staffing import STAFF as STAFFING_STAFF
    from probation_evidence.sources.landing import land_table

    root, mode = Path(sys.argv[1]), sys.argv[2]
    url = os.environ["PE_FAULT_WAREHOUSE_URL"]
    if mode == "fsize":
        resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))
    report: dict = {"mode": mode}

    small = land_table(_table(40, 8), STAFFING_STAFF, PROVIDER, PERIOD, root)
    first = ingest.load_extracted(url, {"provider_id": PROVIDER, "errors": [], "manifests": [small.to_dict()]}, root)
    report["first_load"] = first["results"][0]
    report["files_before"] = _files(root)
    try:
        land_table(_table(4000, 2000), STAFFING_STAFF, PROVIDER, PERIOD, root)
        report["landing_error"] = None
    except OSError as error:
        report["landing_error"] = {"errno": error.errno, "message": str(error)}
    report["files_after"] = _files(root)
    again = ingest.load_extracted(url, {"provider_id": PROVIDER, "errors": [], "manifests": [small.to_dict()]}, root)
    report["reload"] = {"results": again["results"], "errors": again["errors"]}
    print(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
