"""Journal pages: the list with filters, the situation form, the situation page with its
attachments and the tutor's acknowledgement. Each works with htmx and without."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from sqlalchemy.orm import Session

from app.i18n import N_, translate
from app.models import Party, SituationStatus, User, WorkSituation
from app.routes.uploads import Upload
from app.schemas.common import FormModel, SafeStr, Version
from app.services.access import require_party, roles_of
from app.services.documents import attachments as attachment_service
from app.services.errors import DomainError, InvalidInput
from app.services.journal import rules as journal_rules
from app.services.journal import situations as journal_service
from app.services.referentials.views import referential_for
from app.services.school import apprenticeships as apprenticeship_service
from app.web.deps import AppSettings, CurrentUser, DbSession, client_ip
from app.web.forms import parse_form_date
from app.web.htmx import is_htmx, is_htmx_partial
from app.web.params import PathId
from app.web.templating import templates
from app.web.urls import journal_url, situation_url

router = APIRouter(tags=["pages"])

PAGE_SIZE = 20
NOTICES = {
    "created": N_("The work situation was saved as a draft."),
    "saved": N_("Changes saved."),
    "submitted": N_("Submitted to your tutor."),
    "acknowledged": N_("Acknowledged."),
    "sent_back": N_("Sent back to the apprentice with your comment."),
    "deleted": N_("The draft was deleted."),
    "uploaded": N_("The file was attached."),
    "removed": N_("The file was removed."),
}


class SituationForm(FormModel):
    """Lenient parsing: the service explains every limit next to the field."""

    title: str = Field(default="", max_length=200_000)
    starts_on: str = Field(default="", max_length=40)
    ends_on: str = Field(default="", max_length=40)
    context: str = Field(default="", max_length=200_000)
    actions: str = Field(default="", max_length=200_000)
    results: str = Field(default="", max_length=200_000)
    learnings: str = Field(default="", max_length=200_000)
    competency_codes: list[str] = Field(default_factory=list, max_length=200)
    version: Version | None = None


class CommentForm(FormModel):
    comment: str = Field(default="", max_length=200_000)


def _notice(request: Request, key: str | None) -> str | None:
    return translate(request.state.locale, NOTICES[key]) if key in NOTICES else None


def _to_input(
    form: SituationForm, locale: str
) -> tuple[journal_service.SituationInput | None, dict[str, str]]:
    errors: dict[str, str] = {}
    starts_on, ends_on = parse_form_date(form.starts_on), parse_form_date(form.ends_on)
    for field, value in (("starts_on", starts_on), ("ends_on", ends_on)):
        if value is None:
            errors[field] = translate(locale, "Enter a date (YYYY-MM-DD).")
    data = journal_service.SituationInput(
        title=form.title,
        starts_on=starts_on or date.min,
        ends_on=ends_on or date.max,
        competency_codes=form.competency_codes,
        **{f: getattr(form, f) for f in journal_rules.TEXT_FIELDS},
    )
    return (None if errors else data), errors


def _all_errors(
    session: Session, user: User, appr_id: PathId, form: SituationForm, locale: str
) -> tuple[journal_service.SituationInput | None, dict[str, str]]:
    data, errors = _to_input(form, locale)
    probe = data or journal_service.SituationInput(
        form.title,
        date.min,
        date.max,
        form.competency_codes,
        **{f: getattr(form, f) for f in journal_rules.TEXT_FIELDS},
    )
    for field, (message, params) in journal_service.field_errors(
        session, user, appr_id, probe
    ).items():
        if field == "ends_on" and data is None:
            continue  # the unparsable date is already reported
        errors.setdefault(field, translate(locale, message, **params))
    return data, errors


def _form_page(
    request: Request,
    session: Session,
    user: User,
    appr_id: PathId,
    form: SituationForm,
    errors: dict[str, str],
    situation: WorkSituation | None = None,
    status: int = 200,
) -> Response:
    appr = apprenticeship_service.get(session, user, appr_id)
    require_party(user, appr, Party.APPRENTICE)  # the apprentice writes the journal
    referential = referential_for(session, appr.cohort.certification)
    return templates.TemplateResponse(
        request,
        "journal/form.html",
        {
            "appr": appr,
            "referential": referential,
            "form": form,
            "errors": errors,
            "situation": situation,
        },
        status_code=status,
    )


# --- The list ---------------------------------------------------------------------------------


@router.get("/apprenticeships/{apprenticeship_id}/journal", response_class=HTMLResponse)
def journal_list(
    apprenticeship_id: PathId,
    request: Request,
    session: DbSession,
    user: CurrentUser,
    status: Annotated[SafeStr, Query(max_length=20)] = "",
    block: Annotated[SafeStr, Query(max_length=40)] = "",
    competency: Annotated[SafeStr, Query(max_length=40)] = "",
    q: Annotated[SafeStr, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    notice: Annotated[SafeStr | None, Query(max_length=20)] = None,
) -> Response:
    appr = apprenticeship_service.get(session, user, apprenticeship_id)
    referential = referential_for(session, appr.cohort.certification)
    status_value = status if status in {s.value for s in SituationStatus} else ""
    block_codes = {b.code for b in referential.blocks}
    comp_codes = {c.code for c in referential.competencies}
    filters = journal_service.SituationFilters(
        status=SituationStatus(status_value) if status_value else None,
        block_code=block if block in block_codes else None,
        competency_code=competency if competency in comp_codes else None,
        q=q,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    result = journal_service.list_situations(session, user, appr.id, filters)
    context: dict[str, Any] = {
        "appr": appr,
        "referential": referential,
        "result": result,
        "filters": {
            "status": status_value,
            "block": filters.block_code or "",
            "competency": filters.competency_code or "",
            "q": q.strip(),
        },
        "page": page,
        "pages": max(1, -(-result.total // PAGE_SIZE)),
        "can_write": Party.APPRENTICE in roles_of(user, appr),
        "notice": _notice(request, notice),
    }
    template = "journal/partials/results.html" if is_htmx_partial(request) else "journal/list.html"
    return templates.TemplateResponse(request, template, context, headers={"Vary": "HX-Request"})


# --- Create and edit --------------------------------------------------------------------------


@router.get("/apprenticeships/{apprenticeship_id}/journal/new", response_class=HTMLResponse)
def new_situation_form(
    apprenticeship_id: PathId, request: Request, session: DbSession, user: CurrentUser
) -> Response:
    return _form_page(request, session, user, apprenticeship_id, SituationForm(), {})


@router.post("/apprenticeships/{apprenticeship_id}/journal/new", response_class=HTMLResponse)
def create_situation(
    apprenticeship_id: PathId,
    form: Annotated[SituationForm, Form()],
    request: Request,
    session: DbSession,
    user: CurrentUser,
) -> Response:
    data, errors = _all_errors(session, user, apprenticeship_id, form, request.state.locale)
    if errors or data is None:
        return _form_page(request, session, user, apprenticeship_id, form, errors, status=422)
    situation = journal_service.create_situation(
        session, user, apprenticeship_id, data, ip=client_ip(request)
    )
    return RedirectResponse(situation_url(situation.id, notice="created"), status_code=303)


@router.post("/apprenticeships/{apprenticeship_id}/journal/validate", response_class=HTMLResponse)
def validate_situation(
    apprenticeship_id: PathId,
    form: Annotated[SituationForm, Form()],
    request: Request,
    session: DbSession,
    user: CurrentUser,
) -> Response:
    """Inline validation: every field's message, swapped out of band next to its field."""
    _data, errors = _all_errors(session, user, apprenticeship_id, form, request.state.locale)
    return templates.TemplateResponse(
        request, "journal/partials/field_errors.html", {"errors": errors}
    )


@router.get("/apprenticeships/{apprenticeship_id}/journal/validate", include_in_schema=False)
def validate_loaded_directly(
    apprenticeship_id: PathId, session: DbSession, user: CurrentUser
) -> Response:
    apprenticeship_service.get(session, user, apprenticeship_id)  # others get 404
    return RedirectResponse(journal_url(apprenticeship_id, "new"), status_code=303)


def _form_from(situation: WorkSituation) -> SituationForm:
    return SituationForm(
        title=situation.title,
        starts_on=situation.starts_on.isoformat(),
        ends_on=situation.ends_on.isoformat(),
        competency_codes=[c.code for c in situation.competencies],
        version=situation.version,
        **{f: getattr(situation, f) for f in journal_rules.TEXT_FIELDS},
    )


@router.get("/work-situations/{situation_id}/edit", response_class=HTMLResponse)
def edit_situation_form(
    situation_id: PathId, request: Request, session: DbSession, user: CurrentUser
) -> Response:
    situation = journal_service.get_situation(session, user, situation_id)
    return _form_page(
        request, session, user, situation.apprenticeship_id, _form_from(situation), {}, situation
    )


@router.post("/work-situations/{situation_id}/edit", response_class=HTMLResponse)
def update_situation(
    situation_id: PathId,
    form: Annotated[SituationForm, Form()],
    request: Request,
    session: DbSession,
    user: CurrentUser,
) -> Response:
    situation = journal_service.get_situation(session, user, situation_id)
    appr_id = situation.apprenticeship_id
    data, errors = _all_errors(session, user, appr_id, form, request.state.locale)
    if errors or data is None:
        return _form_page(request, session, user, appr_id, form, errors, situation, status=422)
    changes = journal_service.SituationChanges(
        title=data.title,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        competency_codes=data.competency_codes,
        **{f: getattr(data, f) for f in journal_rules.TEXT_FIELDS},
    )
    try:
        journal_service.update_situation(
            session, user, situation_id, form.version or 0, changes, ip=client_ip(request)
        )
    except DomainError as exc:
        if exc.status_code != 409:
            raise
        message = translate(request.state.locale, exc.message, **exc.params)
        return _form_page(
            request, session, user, appr_id, form, {"form": message}, situation, status=409
        )
    return RedirectResponse(situation_url(situation_id, notice="saved"), status_code=303)


# --- The situation page and its actions -------------------------------------------------------


def _situation_page(
    request: Request,
    session: Session,
    user: User,
    situation_id: PathId,
    *,
    notice: str | None = None,
    error: str | None = None,
    comment: str = "",
    status: int = 200,
) -> Response:
    situation = journal_service.get_situation(session, user, situation_id)
    appr = apprenticeship_service.get(session, user, situation.apprenticeship_id)
    referential = referential_for(session, appr.cohort.certification)
    roles = roles_of(user, appr)
    return templates.TemplateResponse(
        request,
        "journal/situation.html",
        {
            "situation": situation,
            "appr": appr,
            "referential": referential,
            "can_edit": journal_rules.may_edit(roles, situation.status),
            "can_review": journal_rules.may_review(roles, situation.status),
            "notice": notice,
            "error": error,
            "comment": comment,
        },
        status_code=status,
    )


@router.get("/work-situations/{situation_id}", response_class=HTMLResponse)
def situation_page(
    situation_id: PathId,
    request: Request,
    session: DbSession,
    user: CurrentUser,
    notice: Annotated[SafeStr | None, Query(max_length=20)] = None,
) -> Response:
    return _situation_page(request, session, user, situation_id, notice=_notice(request, notice))


def _done(situation_id: PathId, notice: str) -> Response:
    return RedirectResponse(situation_url(situation_id, notice=notice), status_code=303)


@router.post("/work-situations/{situation_id}/submit")
def submit(
    situation_id: PathId, request: Request, session: DbSession, user: CurrentUser
) -> Response:
    journal_service.submit(session, user, situation_id, ip=client_ip(request))
    return _done(situation_id, "submitted")


def _tutor_decision(
    decide: Callable[..., object],
    notice: str,
    situation_id: PathId,
    form: CommentForm,
    request: Request,
    session: Session,
    user: User,
) -> Response:
    """Acknowledge or send back; a missing or too long comment shows the page again."""
    try:
        decide(session, user, situation_id, form.comment, ip=client_ip(request))
    except InvalidInput as exc:
        return _situation_page(
            request,
            session,
            user,
            situation_id,
            comment=form.comment,
            error=translate(request.state.locale, exc.message, **exc.params),
            status=422,
        )
    return _done(situation_id, notice)


@router.post("/work-situations/{situation_id}/acknowledge")
def acknowledge(
    situation_id: PathId,
    form: Annotated[CommentForm, Form()],
    request: Request,
    session: DbSession,
    user: CurrentUser,
) -> Response:
    return _tutor_decision(
        journal_service.acknowledge, "acknowledged", situation_id, form, request, session, user
    )


@router.post("/work-situations/{situation_id}/request-changes")
def request_changes(
    situation_id: PathId,
    form: Annotated[CommentForm, Form()],
    request: Request,
    session: DbSession,
    user: CurrentUser,
) -> Response:
    return _tutor_decision(
        journal_service.request_changes, "sent_back", situation_id, form, request, session, user
    )


@router.get("/work-situations/{situation_id}/delete", response_class=HTMLResponse)
def delete_step(
    situation_id: PathId, request: Request, session: DbSession, user: CurrentUser
) -> Response:
    """What deleting the draft will do, and the real button (htmx: swapped into the page)."""
    situation = journal_service.draft_to_delete(session, user, situation_id)
    template = (
        "journal/partials/delete_confirm.html"
        if is_htmx_partial(request)
        else "journal/delete.html"
    )
    return templates.TemplateResponse(
        request,
        template,
        {
            "situation": situation,
            "appr": apprenticeship_service.get(session, user, situation.apprenticeship_id),
        },
        headers={"Vary": "HX-Request"},
    )


@router.post("/work-situations/{situation_id}/delete")
def delete(
    situation_id: PathId,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
) -> Response:
    situation = journal_service.get_situation(session, user, situation_id)
    appr_id = situation.apprenticeship_id
    journal_service.delete_situation(
        session, user, situation_id, attachments_dir=settings.attachments_dir, ip=client_ip(request)
    )
    return RedirectResponse(journal_url(appr_id, notice="deleted"), status_code=303)


@router.post("/work-situations/{situation_id}/attachments")
def upload_attachment(
    situation_id: PathId,
    upload: Upload,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
) -> Response:
    attachment_service.add_to_situation(
        session,
        user,
        settings.attachments_dir,
        situation_id,
        upload.file,
        upload.filename,
        ip=client_ip(request),
    )
    if is_htmx(request):
        situation = journal_service.get_situation(session, user, situation_id)
        return templates.TemplateResponse(
            request,
            "journal/partials/attachments.html",
            {
                "situation": situation,
                "can_edit": journal_rules.may_edit(
                    roles_of(user, situation.apprenticeship), situation.status
                ),
                "notice": _notice(request, "uploaded"),
            },
        )
    return _done(situation_id, "uploaded")


@router.get("/attachments/{attachment_id}/delete", response_class=HTMLResponse)
def delete_attachment_step(
    attachment_id: PathId, request: Request, session: DbSession, user: CurrentUser
) -> Response:
    """What removing the file will do, and the real button (htmx: swapped into the list)."""
    attachment, appr, situation = attachment_service.attachment_to_delete(
        session, user, attachment_id
    )
    back = situation_url(situation.id) if situation else f"/apprenticeships/{appr.id}/english"
    template = (
        "journal/partials/attachment_delete_confirm.html"
        if is_htmx_partial(request)
        else "journal/attachment_delete.html"
    )
    return templates.TemplateResponse(
        request,
        template,
        {"attachment": attachment, "appr": appr, "situation": situation, "back": back},
        headers={"Vary": "HX-Request"},
    )


@router.post("/attachments/{attachment_id}/delete")
def delete_attachment(
    attachment_id: PathId,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: CurrentUser,
) -> Response:
    _attachment, appr, situation = attachment_service.get_attachment(session, user, attachment_id)
    attachment_service.delete_attachment(
        session, user, settings.attachments_dir, attachment_id, ip=client_ip(request)
    )
    if situation is None:
        return RedirectResponse(f"/apprenticeships/{appr.id}/english", status_code=303)
    return _done(situation.id, "removed")
