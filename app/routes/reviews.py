"""The review page: the three columns, the agreed level, signatures. Every save works with
htmx (answering the updated row) and without (post-redirect-get)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import N_, translate
from app.models import Party, User
from app.schemas.common import FormModel, Version
from app.services.errors import DomainError
from app.services.people import rules as people_rules
from app.services.reviews import detail as review_detail
from app.services.reviews import page as review_page
from app.services.reviews import rules as review_rules
from app.services.reviews import sign_codes
from app.services.reviews import workflow as review_service
from app.services.reviews.detail import ReviewDetail
from app.services.reviews.workflow import RatingInput
from app.web.deps import AppSettings, CurrentUser, DbSession, auth_method, client_ip
from app.web.htmx import is_htmx, is_htmx_partial
from app.web.params import PathId, Semester
from app.web.templating import templates
from app.web.urls import review_url

router = APIRouter(prefix="/apprenticeships/{apprenticeship_id}/reviews", tags=["pages"])


class RatingForm(FormModel):
    version: Version
    level: str = Field(default="", max_length=3)
    comment: str = Field(default="", max_length=review_rules.COMMENT_MAX)


class SummaryForm(FormModel):
    version: Version
    text: str = Field(default="", max_length=review_rules.SUMMARY_MAX)


class SignForm(FormModel):
    """Password sessions send ``password``; sessions opened with a sign-in link send the
    ``code`` we emailed (see app.services.reviews.sign_codes)."""

    role: Party
    password: str = Field(default="", max_length=people_rules.PASSWORD_MAX)
    code: str = Field(default="", max_length=20)


class SignCodeForm(FormModel):
    role: Party


class ReopenForm(FormModel):
    reason: str = Field(min_length=1, max_length=review_rules.REASON_MAX)


def _toast(request: Request, message: str) -> dict[str, str]:
    text = translate(request.state.locale, message)
    return {"HX-Trigger": json.dumps({"livret:toast": {"message": text, "level": "success"}})}


def _render_page(
    request: Request, page: review_page.ReviewPage, status: int = 200, **context: object
) -> Response:
    return templates.TemplateResponse(
        request, "reviews/page.html", {"page": page, **context}, status_code=status
    )


def _after_save(
    request: Request,
    detail: ReviewDetail,
    user: CurrentUser,
    settings: AppSettings,
    competency_id: int | None,
    fragment: str,
    message: str,
) -> Response:
    """htmx: the updated fragment (plus refreshed version fields); otherwise 303 to the page."""
    appr_id, semester = detail.apprenticeship.id, detail.review.semester
    if not is_htmx(request):
        anchor = f"#c{competency_id}" if competency_id else ""
        return RedirectResponse(review_url(appr_id, semester, anchor=anchor), status_code=303)
    page = review_page.build(detail, user, date.today(), settings.review_overdue_days)
    context = {"page": page, "row": page.row(competency_id) if competency_id else None, "oob": True}
    return templates.TemplateResponse(request, fragment, context, headers=_toast(request, message))


@router.get("/{semester}", response_class=HTMLResponse)
def review_page_view(
    apprenticeship_id: PathId,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    semester: Semester,
    code_sent: bool = False,
) -> Response:
    page = review_page.load(session, settings, user, apprenticeship_id, semester, date.today())
    return _render_page(request, page, code_sent=code_sent, code_minutes=settings.sign_code_minutes)


def _redirect_to_page(apprenticeship_id: PathId, semester: int) -> Response:
    return RedirectResponse(review_url(apprenticeship_id, semester), status_code=303)


@router.get("/{semester}/assessments/{party}/ratings/{competency_id}", include_in_schema=False)
@router.get("/{semester}/agreed/ratings/{competency_id}", include_in_schema=False)
def fragment_url_loaded_directly(
    apprenticeship_id: PathId,
    competency_id: PathId,
    semester: Semester,
    session: DbSession,
    user: CurrentUser,
) -> Response:
    """Fragment URLs loaded directly lead to the full page (for those who may see it)."""
    review_detail.load_apprenticeship(session, user, apprenticeship_id)  # others get 404
    return RedirectResponse(
        review_url(apprenticeship_id, semester, anchor=f"#c{competency_id}"), 303
    )


def _rating(form: RatingForm, competency_id: PathId) -> RatingInput:
    level, not_observed = review_page.parse_level(form.level)
    return RatingInput(competency_id, level, not_observed, form.comment)


@router.post("/{semester}/assessments/{party}/ratings/{competency_id}")
def save_own_rating(
    apprenticeship_id: PathId,
    party: Party,
    competency_id: PathId,
    form: Annotated[RatingForm, Form()],
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    semester: Semester,
) -> Response:
    detail = review_service.save_assessment(
        session,
        user,
        apprenticeship_id,
        semester,
        party,
        version=form.version,
        ratings=[_rating(form, competency_id)],
        ip=client_ip(request),
    )
    return _after_save(
        request, detail, user, settings, competency_id, "reviews/partials/row.html", N_("Saved.")
    )


@router.post("/{semester}/assessments/{party}/comment")
def save_general_comment(
    apprenticeship_id: PathId,
    party: Party,
    form: Annotated[SummaryForm, Form()],
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    semester: Semester,
) -> Response:
    detail = review_service.save_assessment(
        session,
        user,
        apprenticeship_id,
        semester,
        party,
        version=form.version,
        ratings=[],
        general_comment=form.text,
        ip=client_ip(request),
    )
    return _after_save(
        request, detail, user, settings, None, "reviews/partials/comments.html", N_("Saved.")
    )


@router.post("/{semester}/agreed/ratings/{competency_id}")
def save_agreed_rating(
    apprenticeship_id: PathId,
    competency_id: PathId,
    form: Annotated[RatingForm, Form()],
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    semester: Semester,
) -> Response:
    detail = review_service.save_agreed(
        session,
        user,
        apprenticeship_id,
        semester,
        version=form.version,
        ratings=[_rating(form, competency_id)],
        ip=client_ip(request),
    )
    return _after_save(
        request,
        detail,
        user,
        settings,
        competency_id,
        "reviews/partials/row.html",
        N_("Agreed level saved."),
    )


@router.post("/{semester}/agreed/summary")
def save_agreed_summary(
    apprenticeship_id: PathId,
    form: Annotated[SummaryForm, Form()],
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    semester: Semester,
) -> Response:
    detail = review_service.save_agreed(
        session,
        user,
        apprenticeship_id,
        semester,
        version=form.version,
        ratings=[],
        summary=form.text,
        ip=client_ip(request),
    )
    return _after_save(
        request,
        detail,
        user,
        settings,
        None,
        "reviews/partials/comments.html",
        N_("Agreed summary saved."),
    )


@router.post("/{semester}/sign")
def sign(
    apprenticeship_id: PathId,
    form: Annotated[SignForm, Form()],
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    semester: Semester,
) -> Response:
    try:
        review_service.sign(
            session,
            settings,
            user,
            apprenticeship_id,
            semester,
            form.role,
            password=form.password or None,
            email_code=form.code or None,
            auth_method=auth_method(request),
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent"),
        )
    except DomainError as exc:
        return _sign_error(request, session, settings, user, apprenticeship_id, semester, exc)
    return _redirect_after_action(request, apprenticeship_id, semester)


def _sign_error(
    request: Request,
    session: Session,
    settings: Settings,
    user: User,
    apprenticeship_id: PathId,
    semester: int,
    exc: DomainError,
) -> Response:
    if exc.status_code == 404:
        raise exc
    # Show the page again with the reason next to the signature form. Failure records
    # (wrong password or code) are kept: the request's transaction still commits; any other
    # write is undone (a code checked before a conflict stays usable).
    if not exc.commit_writes:
        session.rollback()
    page = review_page.load(session, settings, user, apprenticeship_id, semester, date.today())
    error = translate(request.state.locale, exc.message, **exc.params)
    return _render_page(request, page, exc.status_code, sign_error=error)


@router.post("/{semester}/sign/code")
def send_sign_code(
    apprenticeship_id: PathId,
    form: Annotated[SignCodeForm, Form()],
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
    semester: Semester,
) -> Response:
    """Email a one-time code to sign (sessions opened with a sign-in link only)."""
    try:
        sign_codes.send_sign_code(
            session,
            settings,
            user,
            apprenticeship_id,
            semester,
            form.role,
            auth_method=auth_method(request),
            ip=client_ip(request),
        )
    except DomainError as exc:
        return _sign_error(request, session, settings, user, apprenticeship_id, semester, exc)
    url = review_url(apprenticeship_id, semester, anchor="?code_sent=true#signatures")
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


@router.get("/{semester}/reopen", response_class=HTMLResponse)
def reopen_step(
    apprenticeship_id: PathId,
    request: Request,
    session: DbSession,
    user: CurrentUser,
    semester: Semester,
) -> Response:
    """What reopening will do (the signatures are voided), the reason, and the real button
    (htmx: swapped into the signatures section)."""
    detail = review_service.reopen_step(session, user, apprenticeship_id, semester)
    template = (
        "reviews/partials/reopen_confirm.html"
        if is_htmx_partial(request)
        else "reviews/reopen.html"
    )
    return templates.TemplateResponse(
        request, template, {"detail": detail}, headers={"Vary": "HX-Request"}
    )


@router.post("/{semester}/reopen")
def reopen(
    apprenticeship_id: PathId,
    form: Annotated[ReopenForm, Form()],
    request: Request,
    session: DbSession,
    user: CurrentUser,
    semester: Semester,
) -> Response:
    review_service.reopen(
        session, user, apprenticeship_id, semester, reason=form.reason, ip=client_ip(request)
    )
    return _redirect_after_action(request, apprenticeship_id, semester)


def _redirect_after_action(request: Request, apprenticeship_id: PathId, semester: int) -> Response:
    url = review_url(apprenticeship_id, semester, anchor="#signatures")
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
