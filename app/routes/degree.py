"""English results and international mobility pages."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from babel import Locale
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from sqlalchemy.orm import Session

from app.i18n import N_
from app.models import CEFR_LEVELS, Party, User
from app.routes.uploads import Upload
from app.schemas.common import FormModel
from app.services.access import can_administer, roles_of
from app.services.degree_conditions import evidence as degree_service
from app.services.documents import attachments as attachment_service
from app.services.errors import InvalidInput
from app.services.school import apprenticeships as apprenticeship_service
from app.services.validation import Collector
from app.web.deps import AppSettings, CurrentUser, DbSession, client_ip
from app.web.forms import form_errors, parse_form_date
from app.web.params import PathId
from app.web.templating import templates

router = APIRouter(tags=["pages"])


class EnglishForm(FormModel):
    test_name: str = Field(default="", max_length=10_000)
    score: str = Field(default="", max_length=10_000)
    cefr_level: str = Field(default="", max_length=10)
    taken_on: str = Field(default="", max_length=40)


class MobilityForm(FormModel):
    country: str = Field(default="", max_length=10)
    host: str = Field(default="", max_length=10_000)
    starts_on: str = Field(default="", max_length=40)
    ends_on: str = Field(default="", max_length=40)


def _dates(form: FormModel, *fields: str) -> list[date]:
    """The form's dates, or FieldErrors naming each one that is not a date."""
    errors = Collector()
    parsed = [parse_form_date(getattr(form, field)) for field in fields]
    for field, value in zip(fields, parsed, strict=True):
        if value is None:
            errors.add(field, N_("Enter a date (YYYY-MM-DD)."))
    errors.raise_if_any()
    return [value for value in parsed if value is not None]


def _countries(locale: str) -> list[tuple[str, str]]:
    names = Locale(locale).territories
    return sorted(
        ((code, names.get(code, code)) for code in degree_service.country_codes()),
        key=lambda item: item[1],
    )


def _can_write(user: User, appr: Any) -> bool:
    return Party.APPRENTICE in roles_of(user, appr) or can_administer(user)


def _english_page(
    request: Request,
    session: Session,
    user: User,
    appr_id: PathId,
    form: EnglishForm | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    appr = apprenticeship_service.get(session, user, appr_id)
    results = degree_service.list_english_results(session, user, appr_id)
    return templates.TemplateResponse(
        request,
        "degree/english.html",
        {
            "appr": appr,
            "results": results,
            "form": form or EnglishForm(),
            "errors": errors or {},
            "levels": CEFR_LEVELS,
            "can_write": _can_write(user, appr),
        },
        status_code=status,
    )


@router.get("/apprenticeships/{apprenticeship_id}/english", response_class=HTMLResponse)
def english_page(
    apprenticeship_id: PathId, request: Request, session: DbSession, user: CurrentUser
) -> Response:
    return _english_page(request, session, user, apprenticeship_id)


@router.post("/apprenticeships/{apprenticeship_id}/english", response_class=HTMLResponse)
def add_english_result(
    apprenticeship_id: PathId,
    form: Annotated[EnglishForm, Form()],
    request: Request,
    session: DbSession,
    user: CurrentUser,
) -> Response:
    degree_service.require_recorder(session, user, apprenticeship_id)  # before the input
    try:
        data = degree_service.EnglishResultInput(
            form.test_name,
            form.score,
            form.cefr_level.strip().upper(),
            *_dates(form, "taken_on"),
        )
        degree_service.create_english_result(
            session, user, apprenticeship_id, data, ip=client_ip(request)
        )
    except InvalidInput as exc:
        errors = form_errors(request.state.locale, exc)
        return _english_page(request, session, user, apprenticeship_id, form, errors, 422)
    return RedirectResponse(f"/apprenticeships/{apprenticeship_id}/english", status_code=303)


@router.post("/english-results/{result_id}/certificate")
def upload_certificate(
    result_id: PathId,
    upload: Upload,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
) -> Response:
    _result, appr = degree_service.get_english_result(session, user, result_id)
    attachment_service.add_to_english_result(
        session,
        user,
        settings.attachments_dir,
        result_id,
        upload.file,
        upload.filename,
        ip=client_ip(request),
    )
    return RedirectResponse(f"/apprenticeships/{appr.id}/english", status_code=303)


def _mobility_page(
    request: Request,
    session: Session,
    user: User,
    appr_id: PathId,
    form: MobilityForm | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    appr = apprenticeship_service.get(session, user, appr_id)
    periods = degree_service.list_mobility_periods(session, user, appr_id)
    names = dict(_countries(request.state.locale))
    return templates.TemplateResponse(
        request,
        "degree/mobility.html",
        {
            "appr": appr,
            "periods": periods,
            "form": form or MobilityForm(),
            "errors": errors or {},
            "countries": _countries(request.state.locale),
            "country_names": names,
            "total_weeks": sum(p.weeks for p in periods),
            "can_write": _can_write(user, appr),
        },
        status_code=status,
    )


@router.get("/apprenticeships/{apprenticeship_id}/mobility", response_class=HTMLResponse)
def mobility_page(
    apprenticeship_id: PathId, request: Request, session: DbSession, user: CurrentUser
) -> Response:
    return _mobility_page(request, session, user, apprenticeship_id)


@router.post("/apprenticeships/{apprenticeship_id}/mobility", response_class=HTMLResponse)
def add_mobility_period(
    apprenticeship_id: PathId,
    form: Annotated[MobilityForm, Form()],
    request: Request,
    session: DbSession,
    user: CurrentUser,
) -> Response:
    degree_service.require_recorder(session, user, apprenticeship_id)  # before the input
    try:
        data = degree_service.MobilityInput(
            form.country.strip().upper(),
            form.host,
            *_dates(form, "starts_on", "ends_on"),
        )
        degree_service.create_mobility_period(
            session, user, apprenticeship_id, data, ip=client_ip(request)
        )
    except InvalidInput as exc:
        errors = form_errors(request.state.locale, exc)
        return _mobility_page(request, session, user, apprenticeship_id, form, errors, 422)
    return RedirectResponse(f"/apprenticeships/{apprenticeship_id}/mobility", status_code=303)
