"""The supervisor's cohort dashboard and its CSV export."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.schemas.common import SafeStr
from app.services.documents import exports as export_service
from app.services.pages import dashboard as dashboard_service
from app.web.deps import AppSettings, CohortFollower, DbSession
from app.web.htmx import is_htmx_partial
from app.web.params import QueryId
from app.web.templating import templates

router = APIRouter(tags=["pages"])


def _filters(
    cohort: QueryId = None,
    status: Annotated[SafeStr, Query(max_length=20)] = "all",
    q: Annotated[SafeStr, Query(max_length=100)] = "",
    sort: Annotated[SafeStr, Query(max_length=20)] = "name",
    dir: Annotated[SafeStr, Query(max_length=4)] = "asc",
) -> dashboard_service.Filters:
    return dashboard_service.Filters(cohort, status, q, sort, dir)


DashboardFilters = Annotated[dashboard_service.Filters, Depends(_filters)]


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CohortFollower,
    filters: DashboardFilters,
) -> Response:
    board = dashboard_service.build(session, settings, user, filters, date.today())
    template = (
        "dashboard/partials/results.html" if is_htmx_partial(request) else "dashboard/page.html"
    )
    return templates.TemplateResponse(
        request, template, {"board": board}, headers={"Vary": "HX-Request"}
    )


@router.get("/dashboard.csv")
def dashboard_csv(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CohortFollower,
    filters: DashboardFilters,
    sep: Annotated[SafeStr, Query(pattern="^(comma|semicolon)$")] = "comma",
) -> Response:
    board = dashboard_service.build(session, settings, user, filters, date.today())
    body = export_service.dashboard_csv(
        board, request.state.locale, separator=";" if sep == "semicolon" else ","
    )
    name = f"livret-{board.cohort.id if board.cohort else 'cohort'}-{date.today().isoformat()}.csv"
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
