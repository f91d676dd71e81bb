"""The planners' evidence-pack browser: a FastAPI app that Airflow's api-server mounts at `/evidence-packs`.

Routes (under the mount):
  GET /                                   every inspection with its published pack versions
  GET /files/<inspection_id>/<file name>  one pack file (HTML, PDF or CSV), from the packs folder only
  GET /dbt-docs                           the dbt docs site built by `make docs-site`
  GET /icon.svg                           the navigation icon (no data; the only route open to anyone)

Every other route needs a user Airflow's auth manager accepts: the UI's `_token` cookie or an
`Authorization: Bearer <JWT>` header (Airflow's own `get_user` dependency reads both), and that user must
be allowed the custom view "Evidence packs" (`is_authorized_custom_view`; SimpleAuthManager allows every
role from viewer up). Without a valid token, a browser is sent to Airflow's login page and comes back
after it; any other client gets Airflow's 401 (no token, or expired) or 403 (a token that is not valid).
A user who is known but not allowed gets 403 either way.

Everything shown is escaped by Jinja's autoescape; each response carries a Content-Security-Policy that
allows no script and no fetch from anywhere (the dbt docs site, a page of dbt's, is allowed its own
inline scripts), and framing by Airflow's own pages only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from probation_evidence import settings
from probation_evidence.orchestration import connections
from probation_evidence.packs.render import filter_script_source
from probation_evidence.ui import catalogue

log = logging.getLogger(__name__)

RESOURCE_NAME = "Evidence packs"  # the custom view an auth manager is asked about
TEMPLATE_DIR = Path(__file__).parent / "templates"

_PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
# A pack runs one script of its own, its filters, allowed by its hash (the pack's own policy says the same).
_PACK_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    f"script-src {filter_script_source()}; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
_COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
ICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#1d70b8" '
    'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">'
    '<path d="M6 2h9l5 5v15H6z"/><path d="M14 2v6h6"/><path d="M9 13h8M9 17h8M9 9h3"/></svg>'
)


class NotPermitted(HTTPException):
    """A signed-in user whom the auth manager does not allow the "Evidence packs" view."""

    def __init__(self) -> None:
        super().__init__(status_code=403, detail=f"your Airflow role is not allowed the {RESOURCE_NAME!r} view")


async def require_planner(request: Request, user: Any = Depends(get_user)) -> Any:  # noqa: B008
    """The signed-in user, if the auth manager allows them the "Evidence packs" view; else NotPermitted.

    `get_user` is Airflow's own: a JWT from the bearer header or the UI's `_token` cookie."""
    if not get_auth_manager().is_authorized_custom_view(method="GET", resource_name=RESOURCE_NAME, user=user):
        raise NotPermitted()
    return user


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _html(body: str, status_code: int = 200, policy: str = _PAGE_POLICY) -> HTMLResponse:
    headers = {**_COMMON_HEADERS, "Content-Security-Policy": policy, "Cache-Control": "no-store"}
    return HTMLResponse(body, status_code=status_code, headers=headers)


def _publications() -> tuple[list[dict] | None, str | None]:
    """The warehouse's record of publications, or (None, why not) when it cannot be read."""
    try:
        return catalogue.read_publications(connections.warehouse_url()), None
    except Exception as error:  # the page still lists the files; the banner says they are unverified
        log.warning("evidence packs page: could not read audit.pack_publications: %s", type(error).__name__)
        return None, f"the warehouse could not be read ({type(error).__name__})"


def create_app() -> FastAPI:
    """The app Airflow mounts at /evidence-packs (`probation_evidence.ui.fastapi_apps`)."""
    app = FastAPI(title="Evidence packs", docs_url=None, redoc_url=None, openapi_url=None)
    templates = _templates()

    @app.exception_handler(StarletteHTTPException)
    async def _refused(request: Request, error: StarletteHTTPException) -> Response:
        # Airflow's get_user says 401 (no token, or expired) or 403 (a token that is not valid): a browser
        # is sent to sign in and brought back; an API client gets the status as it is.
        if error.status_code in (401, 403) and not isinstance(error, NotPermitted) and _wants_html(request):
            login = get_auth_manager().get_url_login(next_url=str(request.url))
            return RedirectResponse(login, status_code=303, headers={"Cache-Control": "no-store"})
        if isinstance(error, NotPermitted) and _wants_html(request):
            page = templates.get_template("message.html.j2").render(title="Not allowed", message=error.detail)
            return _html(page, status_code=403)
        return await http_exception_handler(request, error)

    @app.get("/icon.svg", include_in_schema=False)
    def icon() -> Response:
        headers = {**_COMMON_HEADERS, "Cache-Control": "max-age=86400"}
        return Response(ICON_SVG, media_type="image/svg+xml", headers=headers)

    @app.get("/", response_class=HTMLResponse, dependencies=[Depends(require_planner)])
    def index() -> HTMLResponse:
        publications, warehouse_problem = _publications()
        inspections = catalogue.catalogue(settings.packs_dir(), publications)
        page = templates.get_template("index.html.j2").render(
            inspections=inspections,
            warehouse_problem=warehouse_problem,
            dbt_docs_built=catalogue.dbt_docs_file().is_file(),
            quote=lambda part: quote(part, safe=""),
        )
        return _html(page)

    @app.get("/files/{inspection_id}/{file_name}", dependencies=[Depends(require_planner)])
    def pack_file(inspection_id: str, file_name: str) -> Response:
        try:
            path, kind = catalogue.pack_file(settings.packs_dir(), inspection_id, file_name)
        except catalogue.PackNotFound as error:
            raise HTTPException(status_code=404, detail="no such pack file") from error
        headers = {**_COMMON_HEADERS, "Cache-Control": "private, no-cache"}
        if kind == "html":
            headers["Content-Security-Policy"] = _PACK_POLICY
        else:
            headers["X-Frame-Options"] = "SAMEORIGIN"
        disposition = "attachment" if kind == "csv" else "inline"
        return FileResponse(
            path, media_type=catalogue.MEDIA_TYPES[kind], headers=headers, filename=file_name,
            content_disposition_type=disposition,
        )  # fmt: skip

    @app.get("/dbt-docs", response_class=HTMLResponse, dependencies=[Depends(require_planner)])
    def dbt_docs() -> Response:
        docs = catalogue.dbt_docs_file()
        if not docs.is_file():
            page = templates.get_template("message.html.j2").render(
                title="The dbt docs site has not been built here",
                message="Build it from the warehouse's catalog with `make docs-site` (after `make demo`), "
                "then reload this page.",
                command="make docs-site",
            )
            return _html(page, status_code=404)
        headers = {
            **_COMMON_HEADERS,
            "Cache-Control": "private, no-cache",
            "Content-Security-Policy": "frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
        }
        return FileResponse(docs, media_type="text/html; charset=utf-8", headers=headers)

    return app
