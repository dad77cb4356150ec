"""Documents: the livret as PDF, and the cohort CSV exports."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import User
from app.routes.dashboard import DashboardFilters
from app.schemas.common import SafeStr
from app.services.documents import exports as export_service
from app.services.documents import livret as livret_service
from app.services.documents import livret_pdf
from app.services.pages import dashboard as dashboard_service
from app.web.deps import AppSettings, CohortFollower, CurrentUser, DbSession
from app.web.params import PathId

router = APIRouter(tags=["documents"])

PDF_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"application/pdf": {}}, "description": "The livret as PDF."}
}
CSV_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a byte-order mark."}
}
NO_STORE = "private, no-store"
Separator = Annotated[SafeStr, Query(pattern="^(comma|semicolon)$")]


def livret_response(
    session: Session, settings: Settings, user: User, apprenticeship_id: PathId, locale: str
) -> Response:
    """The livret of an apprenticeship the user may see (parties and admins; others 404)."""
    document = livret_service.load_livret(session, settings, user, apprenticeship_id)
    body = livret_pdf.render_pdf(document, locale)
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{livret_pdf.filename(document)}"',
            "Cache-Control": NO_STORE,
        },
    )


def _csv_response(body: str, filename: str) -> Response:
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": NO_STORE,
        },
    )


@router.get(
    "/apprenticeships/{apprenticeship_id}/livret.pdf",
    response_class=Response,
    responses=PDF_RESPONSES,
)
def livret_pdf_download(
    apprenticeship_id: PathId,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
) -> Response:
    return livret_response(session, settings, user, apprenticeship_id, request.state.locale)


@router.get("/exports/cohort-progress.csv", response_class=Response, responses=CSV_RESPONSES)
def cohort_progress_csv(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CohortFollower,
    filters: DashboardFilters,
    sep: Separator = "comma",
) -> Response:
    """One row per apprentice the dashboard shows with the same filters."""
    today = date.today()
    board = dashboard_service.build(session, settings, user, filters, today)
    body = export_service.cohort_progress_csv(
        board, request.state.locale, separator=";" if sep == "semicolon" else ","
    )
    return _csv_response(body, export_service.export_filename("progress", board, today))


@router.get("/exports/assessments.csv", response_class=Response, responses=CSV_RESPONSES)
def assessments_csv(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CohortFollower,
    filters: DashboardFilters,
    sep: Separator = "comma",
) -> Response:
    """One row per apprentice × semester × competency × party, for the dashboard's rows."""
    today = date.today()
    board = dashboard_service.build(session, settings, user, filters, today)
    body = export_service.assessments_csv(
        session, board, request.state.locale, today, separator=";" if sep == "semicolon" else ","
    )
    return _csv_response(body, export_service.export_filename("assessments", board, today))
