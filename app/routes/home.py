"""The home page: what each person works on."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.services.journal import rules as journal_rules
from app.services.pages import home as home_service
from app.web.deps import AppSettings, CurrentUser, DbSession
from app.web.templating import templates
from app.web.urls import apprenticeship_url

router = APIRouter(tags=["pages"])


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, session: DbSession, settings: AppSettings, user: CurrentUser
) -> Response:
    own = home_service.own_apprenticeship_only(session, user)
    if own is not None:
        # An apprentice's home is their portfolio.
        return RedirectResponse(apprenticeship_url(own), status_code=303)
    overview = home_service.overview(session, settings, user, date.today())
    return templates.TemplateResponse(
        request,
        "home.html",
        {"overview": overview, "tutor_wait_days": journal_rules.TUTOR_WAIT_DAYS},
    )
