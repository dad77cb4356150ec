"""The apprenticeship page (the apprentice's home)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.services.pages import portfolio as portfolio_service
from app.web.deps import AppSettings, CurrentUser, DbSession
from app.web.params import PathId
from app.web.templating import templates

router = APIRouter(tags=["pages"])


@router.get("/apprenticeships/{apprenticeship_id}", response_class=HTMLResponse)
def apprenticeship_page(
    apprenticeship_id: PathId,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
) -> Response:
    page = portfolio_service.portfolio(session, settings, user, apprenticeship_id, date.today())
    return templates.TemplateResponse(request, "portfolio/page.html", {"page": page})
