# Over 450 lines: the pages, their security headers and the browser checks share one api-server.
"""The planners' evidence-pack browser, inside a real Airflow api-server, over HTTP and in a real browser.

One `airflow api-server` (Airflow 3.3, SimpleAuthManager with one `viewer` user, on a free port, its state
under a tmp folder) serves the packs the session's pipeline run published (`pipeline_state`). The tests
ask it as a stranger and as the planner (a JWT from Airflow's own `/auth/token`), try to walk out of the
packs folder, feed it markup, and then drive Debian's chromium through Airflow's login page and navigation
to a pack, with no console error allowed. The screenshot of the page inside Airflow is kept in
test-artifacts/ (and written to docs/images/packs-in-airflow.png when that is missing, or when
UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from probation_evidence import settings
from probation_evidence.local import airflow_env, embedded
from probation_evidence.packs.render import filter_script_source

pytestmark = [pytest.mark.browser, pytest.mark.airflow]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
DOCS_SCREENSHOT = ROOT / "docs" / "images" / "packs-in-airflow.png"
USER = "planner"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
START_TIMEOUT_S = 180


@dataclass
class AirflowUI:
    base_url: str
    password: str
    packs_dir: Path
    docs_dir: Path
    log: Path

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])


def _wait_healthy(process: subprocess.Popen, base_url: str, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"airflow api-server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"airflow api-server not healthy within {START_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (it was started in a new session), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def airflow_ui(pipeline_state, warehouse_url, tmp_path_factory):
    """`airflow api-server` with the project's environment and plugins, serving the pipeline's packs."""
    tmp = tmp_path_factory.mktemp("airflow-ui")
    home, docs_dir, log = tmp / "airflow", tmp / "dbt-docs", tmp / "api-server.log"
    home.mkdir()
    password = secrets.token_urlsafe(18)
    passwords = home / "simple_auth_manager_passwords.json"
    airflow_env.write_secret(passwords, json.dumps({USER: password}))
    port = embedded.free_port()
    env = airflow_env.environment(warehouse_url)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:viewer",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__API__WORKERS": "1",
            "DBT_DOCS_DIR": str(docs_dir),
        }
    )
    # The pipeline run's Airflow metadata database is migrated already (same Airflow): a copy of it saves
    # `airflow db migrate`, and shows the planner Airflow as the pipeline left it.
    pipeline_db = settings.state_dir() / "airflow" / "airflow.db"
    if pipeline_db.is_file():
        shutil.copyfile(pipeline_db, home / "airflow.db")
    else:
        airflow_env.migrate(env)
    airflow = str(Path(sys.executable).with_name("airflow"))
    with log.open("w") as out:
        process = subprocess.Popen(
            [airflow, "api-server", "--port", str(port), "--host", "127.0.0.1", "--workers", "1"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(process, base_url, log)
        yield AirflowUI(base_url, password, settings.packs_dir(), docs_dir, log)
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def token(airflow_ui) -> str:
    """A JWT for the planner from Airflow's own login endpoint."""
    import httpx

    response = httpx.post(
        f"{airflow_ui.base_url}/auth/token", json={"username": USER, "password": airflow_ui.password}, timeout=30
    )
    assert response.status_code == 201, response.text
    return response.json()["access_token"]


@pytest.fixture(scope="module")
def published(pipeline_state, warehouse_url) -> list[tuple[str, str, int]]:
    """(inspection, provider, version) of every recorded publication: what the page must list."""
    import psycopg

    with psycopg.connect(warehouse_url.url()) as conn:
        rows = conn.execute(
            "select inspection_id, provider_id, pack_version from audit.pack_publications order by 1, 3"
        ).fetchall()
    assert rows, "the pipeline published no pack: nothing to browse"
    return rows


def _get(airflow_ui: AirflowUI, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    """GET with the path sent exactly as written (no client-side normalisation of `..` or `%2e`)."""
    conn = http.client.HTTPConnection("127.0.0.1", airflow_ui.port, timeout=30)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


def _pack_path(published, kind: str) -> str:
    inspection, provider, version = published[0]
    return f"/evidence-packs/files/{inspection}/{provider}-evidence-pack-v{version}.{kind}"


# -------------------------------------------------------------------------------------------------- auth
@pytest.mark.parametrize("path", ["/evidence-packs/", "/evidence-packs/dbt-docs", "FIRST_PACK"])
def test_strangers_are_refused(airflow_ui, published, path):
    path = _pack_path(published, "html") if path == "FIRST_PACK" else path

    anonymous = _get(airflow_ui, path)
    browser = _get(airflow_ui, path, {"Accept": "text/html,application/xhtml+xml"})
    forged = _get(airflow_ui, path, {"Authorization": "Bearer not.a.jwt"})
    forged_cookie = _get(airflow_ui, path, {"Cookie": "_token=not.a.jwt", "Accept": "text/html"})

    assert anonymous.status == 401 and b"Evidence" not in anonymous.body, anonymous.body
    assert browser.status == 303
    assert browser.getheader("Location") == "/auth/login?" + urlencode({"next": airflow_ui.base_url + path})
    assert forged.status == 403 and b"Evidence" not in forged.body, forged.body
    assert forged_cookie.status == 303 and forged_cookie.getheader("Location").startswith("/auth/login?next=")


def test_a_wrong_password_gets_no_token(airflow_ui):
    import httpx

    response = httpx.post(
        f"{airflow_ui.base_url}/auth/token", json={"username": USER, "password": "wrong-" + airflow_ui.password}
    )

    assert response.status_code == 401


def test_the_planner_sees_every_published_version(airflow_ui, token, published):
    response = _get(airflow_ui, "/evidence-packs/", {"Authorization": f"Bearer {token}"})

    page = response.body.decode()
    assert response.status == 200, page
    assert "default-src 'none'" in response.getheader("Content-Security-Policy")
    for inspection, provider, version in published:
        for kind in ("html", "pdf", "csv"):
            assert f'href="files/{inspection}/{provider}-evidence-pack-v{version}.{kind}"' in page
    assert page.count("matches the record") == len(published)
    assert "not in the publication record" not in page and "differs from the record" not in page
    assert "Versions not checked" not in page  # the warehouse was read


def test_each_file_is_served_as_written(airflow_ui, token, published):
    inspection, provider, version = published[0]
    auth = {"Authorization": f"Bearer {token}"}
    folder = airflow_ui.packs_dir / inspection

    for kind, media_type in (("html", "text/html"), ("pdf", "application/pdf"), ("csv", "text/csv")):
        response = _get(airflow_ui, _pack_path(published, kind), auth)
        name = f"{provider}-evidence-pack-v{version}.{kind}"
        assert response.status == 200, (kind, response.body[:200])
        assert response.getheader("Content-Type").startswith(media_type)
        assert response.body == (folder / name).read_bytes()
        assert response.getheader("X-Content-Type-Options") == "nosniff"
    html = _get(airflow_ui, _pack_path(published, "html"), auth)
    # Nothing is fetched, and the only script that runs is the pack's own filter script, by its hash.
    policy = dict(d.strip().split(" ", 1) for d in html.getheader("Content-Security-Policy").split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == filter_script_source() and "unsafe" not in policy["script-src"]
    csv = _get(airflow_ui, _pack_path(published, "csv"), auth)
    assert csv.getheader("Content-Disposition").startswith("attachment;")


# ------------------------------------------------------------------------------------------ path safety
def test_nothing_outside_the_packs_folder_is_served(airflow_ui, token, published):
    inspection, provider, _ = published[0]
    auth = {"Authorization": f"Bearer {token}"}
    secret = airflow_ui.log.parent / "airflow" / "simple_auth_manager_passwords.json"
    outside = airflow_ui.packs_dir / "INS-LINK-OUT"
    outside.mkdir()
    (outside / "N99-evidence-pack-v1.html").symlink_to(secret)
    (airflow_ui.packs_dir / inspection / f".{provider}-evidence-pack-v9.html.tmp").write_text("half written")
    attempts = [
        "/evidence-packs/files/../../../../etc/passwd",
        "/evidence-packs/files/%2e%2e/%2e%2e%2fetc%2fpasswd",
        f"/evidence-packs/files/{inspection}/..%2F..%2F..%2Fetc%2Fpasswd",
        f"/evidence-packs/files/{inspection}/%2e%2e%2f{provider}-evidence-pack-v1.html",
        "/evidence-packs/files/..%2F..%2Fairflow-ui0/simple_auth_manager_passwords.json",
        f"/evidence-packs/files/{inspection}/.{provider}-evidence-pack-v9.html.tmp",
        f"/evidence-packs/files/{inspection}/{provider}-evidence-pack-v1.html%00.txt",
        "/evidence-packs/files/INS-LINK-OUT/N99-evidence-pack-v1.html",
        "/evidence-packs/files/%2Fetc/passwd",
    ]
    try:
        responses = {path: _get(airflow_ui, path, auth) for path in attempts}
        listing = _get(airflow_ui, "/evidence-packs/", auth).body.decode()
    finally:
        shutil.rmtree(outside)
        (airflow_ui.packs_dir / inspection / f".{provider}-evidence-pack-v9.html.tmp").unlink()

    served = {path: response.status for path, response in responses.items() if response.status != 404}
    assert served == {}, served
    for response in responses.values():
        assert airflow_ui.password.encode() not in response.body and b"root:" not in response.body
    assert "INS-LINK-OUT" not in listing and "v9" not in listing


# --------------------------------------------------------------------------------------------- escaping
def test_recorded_values_are_escaped(airflow_ui, token, warehouse_url):
    import psycopg

    script = '<script>alert("pack")</script>'
    with psycopg.connect(warehouse_url.url(), autocommit=True) as conn:
        conn.execute(
            "insert into audit.pack_publications (publication_id, inspection_id, provider_id, pack_version,"
            " as_at_date, data_sha256, html_sha256, csv_sha256, reason, published_at)"
            " values ('ui-escape-test', %s, %s, 1, '2026-09-30', 'x', 'x', 'x', 'first', now())",
            [f"INS-{script}", 'N<img src=x onerror="alert(1)">'],
        )
        try:
            response = _get(airflow_ui, "/evidence-packs/", {"Authorization": f"Bearer {token}"})
        finally:
            conn.execute("delete from audit.pack_publications where publication_id = 'ui-escape-test'")

    page = response.body.decode()
    assert response.status == 200
    assert "INS-&lt;script&gt;alert(&#34;pack&#34;)&lt;/script&gt;" in page
    assert "<script" not in page and "<img" not in page
    assert "missing: HTML, PDF, CSV" in page  # recorded, but no file of it exists


# ---------------------------------------------------------------------------------------------- dbt docs
def test_dbt_docs_are_served_when_built_and_explained_when_not(airflow_ui, token):
    auth = {"Authorization": f"Bearer {token}", "Accept": "text/html"}

    missing = _get(airflow_ui, "/evidence-packs/dbt-docs", auth)
    airflow_ui.docs_dir.mkdir(exist_ok=True)
    site = b"<!doctype html><title>dbt Docs</title><p>lineage</p>"
    (airflow_ui.docs_dir / "static_index.html").write_bytes(site)
    try:
        built = _get(airflow_ui, "/evidence-packs/dbt-docs", auth)
    finally:
        (airflow_ui.docs_dir / "static_index.html").unlink()

    assert missing.status == 404
    assert b"has not been built here" in missing.body and b"make docs-site" in missing.body
    assert built.status == 200 and built.body == site


# ----------------------------------------------------------------------------------------------- browser
def follow_nav_link(page, name: str, path: str, tries: int = 3) -> None:
    """Click Airflow's nav entry `name` until the page is at `path`.

    Airflow's UI renders its nav, then re-renders it once the signed-in user's menu has loaded; on a busy
    machine a click can land in between and be lost (seen once in CI: the URL never changed). The page is
    left to settle first, and a lost click is retried; a link that leads elsewhere still fails.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_load_state("networkidle")
    seen = []
    for _ in range(tries):
        page.get_by_role("link", name=name).click()
        try:
            page.wait_for_url(f"**{path}", timeout=15_000)
            return
        except PlaywrightTimeout:
            seen.append(page.url)
    raise AssertionError(f"the nav entry {name!r} never led to {path}: the page stayed at {seen}")


def test_a_planner_opens_a_pack_through_airflow(airflow_ui, published):
    """Sign in on Airflow's login page, follow the nav entry, open a pack: no console error anywhere."""
    from playwright.sync_api import sync_playwright

    from probation_evidence.packs.browser import LAUNCH_ARGS, find_chromium

    inspection, provider, version = published[0]
    console_errors, page_errors, failed = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=list(LAUNCH_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

            page.goto(f"{airflow_ui.base_url}/evidence-packs/")  # a stranger is sent to sign in first
            page.wait_for_url("**/auth/login?next=*")
            page.get_by_label("Username").fill(USER)
            page.get_by_label("Password").fill(airflow_ui.password)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="Evidence packs").wait_for()  # back where the planner asked to go

            page.goto(airflow_ui.base_url + "/")
            follow_nav_link(page, "Evidence packs", "/plugin/evidence-packs")  # Airflow's own navigation
            frame = page.frame_locator('iframe[title="Evidence packs"]')
            frame.get_by_role("heading", name="Evidence packs", level=1).wait_for()
            sections = frame.locator("section h2").all_inner_texts()
            assert len(sections) == len({row[0] for row in published}), sections
            assert frame.get_by_role("link", name="dbt docs", exact=False).count() == 1
            page.wait_for_load_state("networkidle")
            shot = page.screenshot(type="png")

            frame.locator(f'a[href="files/{inspection}/{provider}-evidence-pack-v{version}.html"]').click()
            heading = frame.get_by_role("heading", level=1)
            heading.wait_for()
            pack_title = heading.inner_text()
            pack_shot = page.screenshot(type="png", full_page=True)
        finally:
            browser.close()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "packs-in-airflow.png").write_bytes(shot)
    (ARTIFACTS / "pack-in-airflow.png").write_bytes(pack_shot)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1" or not DOCS_SCREENSHOT.exists():
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        DOCS_SCREENSHOT.write_bytes(shot)
    assert "evidence pack" in pack_title.lower(), pack_title
    assert console_errors == [] and page_errors == [], (console_errors, page_errors, failed)
    assert failed == [], failed


# ------------------------------------------------------------------- the catalogue alone (no server needed)
@pytest.mark.parametrize(
    ("inspection", "name"),
    [
        ("..", "N01-evidence-pack-v1.html"),
        ("INS-1", "../INS-1/N01-evidence-pack-v1.html"),
        ("INS-1", "N01-evidence-pack-v1.html/"),
        ("INS-1", ".N01-evidence-pack-v1.html.tmp"),
        ("INS-1", "N01-evidence-pack-v1.html.partial"),
        ("INS-1", "N01-evidence-pack-v1.exe"),
        ("INS-1", "N01-evidence-pack-v0.html"),
        ("INS-1", "secrets.json"),
        ("", "N01-evidence-pack-v1.html"),
        ("/etc", "N01-evidence-pack-v1.html"),
        ("INS-1", "N01-evidence-pack-v1.html\x00"),
        ("INS-LINK", "N01-evidence-pack-v1.html"),
        ("INS-1", "N02-evidence-pack-v1.html"),
    ],
)
def test_only_the_publishers_files_inside_the_folder_are_found(tmp_path, inspection, name):
    from probation_evidence.ui import catalogue

    packs = tmp_path / "packs"
    (packs / "INS-1").mkdir(parents=True)
    (packs / "INS-1" / "N01-evidence-pack-v1.html").write_text("<h1>pack</h1>")
    (packs / "INS-1" / ".N01-evidence-pack-v1.html.tmp").write_text("partial")
    (tmp_path / "outside.html").write_text("not a pack")
    (packs / "INS-LINK").mkdir()
    (packs / "INS-LINK" / "N01-evidence-pack-v1.html").symlink_to(tmp_path / "outside.html")
    (packs / "INS-1" / "N02-evidence-pack-v1.html").symlink_to(tmp_path / "outside.html")

    assert catalogue.pack_file(packs, "INS-1", "N01-evidence-pack-v1.html")[1] == "html"
    with pytest.raises(catalogue.PackNotFound):
        catalogue.pack_file(packs, inspection, name)


def test_the_catalogue_joins_the_record_to_the_files(tmp_path):
    import hashlib
    from datetime import UTC, date, datetime, timedelta, timezone

    from probation_evidence.ui import catalogue

    packs = tmp_path / "packs"
    folder = packs / "INS-1"
    folder.mkdir(parents=True)
    for version in (1, 2):
        for kind in ("html", "pdf", "csv"):
            (folder / f"N01-evidence-pack-v{version}.{kind}").write_text(f"v{version} {kind}")
    (folder / "N01-evidence-pack-v3.html").write_text("nobody recorded me")
    sha = {kind: hashlib.sha256(f"v1 {kind}".encode()).hexdigest() for kind in ("html", "csv")}
    published = datetime(2026, 9, 30, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    row = {"inspection_id": "INS-1", "provider_id": "N01", "as_at_date": date(2026, 9, 30), "published_at": published,
           "reason": "first", "provider_name": "Northshire", "fieldwork_start_date": date(2026, 11, 2)}  # fmt: skip
    rows = [
        {**row, "pack_version": 1, "html_sha256": sha["html"], "csv_sha256": sha["csv"]},
        {**row, "pack_version": 2, "reason": "data changed", "html_sha256": sha["html"], "csv_sha256": None},
        {**row, "inspection_id": "INS-2", "pack_version": 1, "html_sha256": "x", "csv_sha256": "x"},
    ]

    found = catalogue.catalogue(packs, rows)
    unchecked = catalogue.catalogue(packs, None)

    assert [(i.inspection_id, [v.version for v in i.versions]) for i in found] == [("INS-1", [1, 2, 3]), ("INS-2", [1])]
    v1, v2, v3 = found[0].versions
    assert found[0].provider_name == "Northshire" and found[0].latest is v3
    assert (v1.recorded, v1.checks, v1.missing, v1.published_at) == (
        True, {"html": True, "csv": True}, [], datetime(2026, 9, 30, 8, 0, tzinfo=UTC)
    )  # fmt: skip
    assert v2.mismatched == ["html"] and "csv" not in v2.checks  # no CSV hash recorded: nothing to compare
    assert (v3.recorded, v3.missing) == (False, ["pdf", "csv"])
    assert found[1].versions[0].missing == ["html", "pdf", "csv"]
    assert [(i.inspection_id, len(i.versions), i.provider_name) for i in unchecked] == [("INS-1", 3, None)]
    assert not any(v.recorded or v.checks for v in unchecked[0].versions)
