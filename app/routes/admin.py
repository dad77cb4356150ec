"""The administration pages: cohorts, accounts, apprenticeships and the CSV import.

Administrators only (others get 403). Every change is a plain form: it answers 303 to the page
(post-redirect-get), or re-renders the form with the messages next to the fields (422, or 409
for a conflict) keeping what was typed. The account list's search and paging also answer htmx
with the results fragment, and its reactivate button with the updated row. Deactivating goes
through a step (GET ``/users/{id}/deactivate``: a page, or the fragment htmx swaps into the
account page) that lists the active apprenticeships it affects and holds the real POST.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BeforeValidator, Field

from app.i18n import N_, translate
from app.schemas.common import BodyId, FormModel, SafeStr
from app.services.errors import Conflict, InvalidInput
from app.services.pages import admin as admin_overview
from app.services.people import accounts, invitations
from app.services.people.rules import MIN_PASSWORD_LENGTH
from app.services.reviews import workflow as review_workflow
from app.services.school import apprenticeships as apprenticeship_service
from app.services.school import cohorts as cohort_service
from app.services.school import csv_import
from app.services.validation import MAX_DB_INT
from app.web.deps import AdminUser, AppSettings, DbSession, client_ip
from app.web.forms import form_errors
from app.web.htmx import is_htmx, is_htmx_partial
from app.web.params import PathId, QueryId
from app.web.templating import templates

router = APIRouter(prefix="/admin", tags=["admin"])

FORM_ERRORS = (InvalidInput, Conflict)
PREVIEW_ROWS = 100  # rows of the import preview table; the counts cover the whole file


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


OptionalInt = Annotated[
    Annotated[int, Field(ge=0, le=MAX_DB_INT)] | None, BeforeValidator(_blank_to_none)
]
OptionalDate = Annotated[date | None, BeforeValidator(_blank_to_none)]
Done = Annotated[SafeStr, Query(max_length=20)]


class CohortForm(FormModel):
    certification_id: OptionalInt = None
    school_id: OptionalInt = None
    new_school_name: str = Field(default="", max_length=300)
    intake_year: OptionalInt = None
    name: str = Field(default="", max_length=300)


class UserCreateForm(FormModel):
    email: str = Field(default="", max_length=320)
    full_name: str = Field(default="", max_length=300)
    locale: str = Field(default="fr", max_length=5)
    is_admin: bool = False
    password: str = Field(default="", max_length=1024)
    invite: bool = False


class DeactivateForm(FormModel):
    """The deactivation step: the apprenticeships confirmed to stay without the person, and a
    replacement's email per apprenticeship (``replacement_for[i]`` → ``replacement_email[i]``,
    blank when none)."""

    confirm_apprenticeships: list[BodyId] = Field(default_factory=list, max_length=1000)
    replacement_for: list[BodyId] = Field(default_factory=list, max_length=1000)
    replacement_email: list[Annotated[str, Field(max_length=320)]] = Field(
        default_factory=list, max_length=1000
    )

    def replacements(self) -> dict[int, str]:
        pairs = zip(self.replacement_for, self.replacement_email, strict=False)
        return {appr_id: email.strip() for appr_id, email in pairs if email.strip()}

    def confirmed(self) -> list[int]:
        """A replaced apprenticeship needs no confirmation, even if its box was ticked."""
        replaced = self.replacements()
        return [appr_id for appr_id in self.confirm_apprenticeships if appr_id not in replaced]


class PasswordForm(FormModel):
    password: str = Field(default="", max_length=1024)


class ApprenticeshipForm(FormModel):
    apprentice_email: str = Field(default="", max_length=320)
    tutor_email: str = Field(default="", max_length=320)
    supervisor_email: str = Field(default="", max_length=320)
    company_name: str = Field(default="", max_length=300)
    company_siret: str = Field(default="", max_length=30)
    cohort_id: OptionalInt = None
    starts_on: OptionalDate = None
    ends_on: OptionalDate = None
    semester_count: OptionalInt = None


class PartiesForm(FormModel):
    tutor_email: str = Field(default="", max_length=320)
    supervisor_email: str = Field(default="", max_length=320)


class SemesterDatesForm(FormModel):
    starts_on: OptionalDate = None
    ends_on: OptionalDate = None


class ConfirmImportForm(FormModel):
    csv_text: str = Field(default="", max_length=csv_import.MAX_BYTES + 64 * 1024)
    invite: bool = False


# --- Helpers ----------------------------------------------------------------------------------


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    locale = request.state.locale

    def tr(message: str, params: dict[str, Any] | None = None) -> str:
        return translate(locale, message, **(params or {}))

    context = {
        **context,
        "tr": tr,
        "min_password_length": MIN_PASSWORD_LENGTH,
        "invitation_days": request.app.state.settings.invitation_days,
    }
    return templates.TemplateResponse(request, name, context, status_code=status, headers=headers)


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _toast(request: Request, message: str) -> dict[str, str]:
    text = translate(request.state.locale, message)
    return {"HX-Trigger": json.dumps({"livret:toast": {"message": text, "level": "success"}})}


# --- Overview ---------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def admin_index(request: Request, session: DbSession, user: AdminUser) -> Response:
    return _render(
        request, "admin/index.html", {"overview": admin_overview.overview(session, user)}
    )


# --- Cohorts ----------------------------------------------------------------------------------


def _cohorts_page(
    request: Request,
    session: DbSession,
    user: AdminUser,
    *,
    form: CohortForm | None = None,
    errors: dict[str, str] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    return _render(
        request,
        "admin/cohorts.html",
        {
            "cohorts": cohort_service.list_cohorts(session, user),
            "options": cohort_service.cohort_options(session, user),
            "form": form or CohortForm(intake_year=date.today().year),
            "errors": errors or {},
            "done": done,
        },
        status=status,
    )


@router.get("/cohorts", response_class=HTMLResponse)
def cohorts(request: Request, session: DbSession, user: AdminUser, done: Done = "") -> Response:
    return _cohorts_page(request, session, user, done=done)


@router.post("/cohorts", response_class=HTMLResponse)
def create_cohort(
    form: Annotated[CohortForm, Form()], request: Request, session: DbSession, user: AdminUser
) -> Response:
    try:
        cohort_service.create_cohort(
            session,
            user,
            cohort_service.CohortInput(
                certification_id=form.certification_id,
                school_id=form.school_id,
                new_school_name=form.new_school_name,
                intake_year=form.intake_year,
                name=form.name,
            ),
            ip=client_ip(request),
        )
    except FORM_ERRORS as exc:
        errors = form_errors(request.state.locale, exc)
        return _cohorts_page(
            request, session, user, form=form, errors=errors, status=exc.status_code
        )
    return _see_other("/admin/cohorts?done=created")


# --- Users ------------------------------------------------------------------------------------


def _users_page(
    request: Request,
    session: DbSession,
    user: AdminUser,
    *,
    q: str = "",
    page: int = 1,
    form: UserCreateForm | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    invited: int | None = None,
) -> Response:
    users = accounts.list_users(session, user, q=q, page=page)
    settings = request.app.state.settings
    context = {
        "users": users,
        "form": form or UserCreateForm(locale=settings.default_locale, invite=True),
        "errors": errors or {},
        "not_invited": invitations.count_not_invited(session, user),
        "invited": invited,
    }
    template = (
        "admin/partials/users_results.html" if is_htmx_partial(request) else "admin/users.html"
    )
    return _render(request, template, context, status=status, headers={"Vary": "HX-Request"})


@router.get("/users", response_class=HTMLResponse)
def users(
    request: Request,
    session: DbSession,
    user: AdminUser,
    q: Annotated[SafeStr, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    invited: Annotated[int | None, Query(ge=0, le=MAX_DB_INT)] = None,
) -> Response:
    return _users_page(request, session, user, q=q, page=page, invited=invited)


@router.post("/users", response_class=HTMLResponse)
def create_user(
    form: Annotated[UserCreateForm, Form()], request: Request, session: DbSession, user: AdminUser
) -> Response:
    try:
        created = accounts.create_user(
            session,
            user,
            accounts.UserInput(
                email=form.email,
                full_name=form.full_name,
                locale=form.locale,
                is_admin=form.is_admin,
                password=form.password,
                invite=form.invite,
            ),
            ip=client_ip(request),
            settings=request.app.state.settings,
        )
    except FORM_ERRORS as exc:
        errors = form_errors(request.state.locale, exc)
        return _users_page(request, session, user, form=form, errors=errors, status=exc.status_code)
    done = "invited" if form.invite else "created"
    return _see_other(f"/admin/users/{created.id}?done={done}")


@router.post("/users/invitations", response_class=HTMLResponse)
def invite_everyone_waiting(
    request: Request, session: DbSession, settings: AppSettings, user: AdminUser
) -> Response:
    """One action for everyone not invited yet (e.g. after a CSV import)."""
    report = invitations.invite_not_invited(session, settings, user, ip=client_ip(request))
    return _see_other(f"/admin/users?invited={len(report.sent)}")


@router.post("/users/{user_id}/invitation", response_class=HTMLResponse)
def invite_user(
    user_id: PathId, request: Request, session: DbSession, settings: AppSettings, user: AdminUser
) -> Response:
    """Send, or send again, the person's invitation (the previous link stops working)."""
    account = invitations.invite(session, settings, user, user_id, ip=client_ip(request))
    if is_htmx(request):
        return _render(
            request,
            "admin/partials/user_row.html",
            {"u": account, "roles": accounts.roles_of_people(session, [account.id])},
            headers=_toast(request, N_("Invitation sent.")),
        )
    return _see_other(f"/admin/users/{account.id}?done=invited")


def _user_page(
    request: Request,
    session: DbSession,
    user: AdminUser,
    user_id: PathId,
    *,
    errors: dict[str, str] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    detail = accounts.user_detail(session, user, user_id)
    return _render(
        request,
        "admin/user.html",
        {"detail": detail, "errors": errors or {}, "done": done},
        status=status,
    )


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_page(
    user_id: PathId, request: Request, session: DbSession, user: AdminUser, done: Done = ""
) -> Response:
    return _user_page(request, session, user, user_id, done=done)


def _after_activation(request: Request, account: Any, message: str, done: str) -> Response:
    if is_htmx(request):
        return _render(
            request,
            "admin/partials/user_row.html",
            {"u": account},
            headers=_toast(request, message),
        )
    return _see_other(f"/admin/users/{account.id}?done={done}")


def _deactivation_step(
    request: Request,
    session: DbSession,
    user: AdminUser,
    user_id: PathId,
    *,
    form: DeactivateForm | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    account = accounts.get_user(session, user, user_id)
    context = {
        "u": account,
        "gaps": accounts.deactivation_gaps(session, user, user_id),
        "options": apprenticeship_service.apprenticeship_options(session, user),
        "form": form or DeactivateForm(),
        "errors": errors or {},
    }
    template = (
        "admin/partials/deactivate.html" if is_htmx_partial(request) else "admin/deactivate.html"
    )
    return _render(request, template, context, status=status, headers={"Vary": "HX-Request"})


@router.get("/users/{user_id}/deactivate", response_class=HTMLResponse)
def deactivate_step(
    user_id: PathId, request: Request, session: DbSession, user: AdminUser
) -> Response:
    """What deactivating will do, the apprenticeships it affects, and the real button."""
    return _deactivation_step(request, session, user, user_id)


@router.post("/users/{user_id}/deactivate")
def deactivate_user(
    user_id: PathId,
    form: Annotated[DeactivateForm, Form()],
    request: Request,
    session: DbSession,
    user: AdminUser,
) -> Response:
    try:
        account = accounts.set_active(
            session,
            user,
            user_id,
            False,
            confirm_apprenticeships=form.confirmed(),
            replacements=form.replacements(),
            ip=client_ip(request),
        )
    except FORM_ERRORS as exc:
        errors = form_errors(request.state.locale, exc)
        return _deactivation_step(
            request, session, user, user_id, form=form, errors=errors, status=exc.status_code
        )
    return _after_activation(request, account, N_("Account deactivated."), "deactivated")


@router.post("/users/{user_id}/reactivate")
def reactivate_user(
    user_id: PathId, request: Request, session: DbSession, user: AdminUser
) -> Response:
    account = accounts.set_active(session, user, user_id, True, ip=client_ip(request))
    return _after_activation(request, account, N_("Account reactivated."), "reactivated")


@router.post("/users/{user_id}/password", response_class=HTMLResponse)
def reset_password(
    user_id: PathId,
    form: Annotated[PasswordForm, Form()],
    request: Request,
    session: DbSession,
    user: AdminUser,
) -> Response:
    try:
        accounts.reset_password(session, user, user_id, form.password, ip=client_ip(request))
    except FORM_ERRORS as exc:
        errors = form_errors(request.state.locale, exc)
        return _user_page(request, session, user, user_id, errors=errors, status=exc.status_code)
    return _see_other(f"/admin/users/{user_id}?done=password")


# --- Apprenticeships --------------------------------------------------------------------------


@router.get("/apprenticeships", response_class=HTMLResponse)
def apprenticeships(
    request: Request,
    session: DbSession,
    user: AdminUser,
    cohort: QueryId = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    listing = apprenticeship_service.list_apprenticeships(
        session, user, cohort_id=cohort, page=page
    )
    return _render(request, "admin/apprenticeships.html", {"listing": listing})


def _new_apprenticeship_page(
    request: Request,
    session: DbSession,
    user: AdminUser,
    *,
    form: ApprenticeshipForm | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return _render(
        request,
        "admin/apprenticeship_new.html",
        {
            "options": apprenticeship_service.apprenticeship_options(session, user),
            "form": form or ApprenticeshipForm(semester_count=6),
            "errors": errors or {},
        },
        status=status,
    )


@router.get("/apprenticeships/new", response_class=HTMLResponse)
def new_apprenticeship(
    request: Request,
    session: DbSession,
    user: AdminUser,
    cohort: QueryId = None,
) -> Response:
    form = ApprenticeshipForm(semester_count=6, cohort_id=cohort)
    return _new_apprenticeship_page(request, session, user, form=form)


@router.post("/apprenticeships", response_class=HTMLResponse)
def create_apprenticeship(
    form: Annotated[ApprenticeshipForm, Form()],
    request: Request,
    session: DbSession,
    user: AdminUser,
) -> Response:
    try:
        appr = apprenticeship_service.create_from_emails(
            session,
            user,
            apprenticeship_service.ApprenticeshipByEmail(**form.model_dump()),
            ip=client_ip(request),
        )
    except FORM_ERRORS as exc:
        errors = form_errors(request.state.locale, exc)
        return _new_apprenticeship_page(
            request, session, user, form=form, errors=errors, status=exc.status_code
        )
    return _see_other(f"/admin/apprenticeships/{appr.id}?done=created")


def _apprenticeship_page(
    request: Request,
    session: DbSession,
    user: AdminUser,
    apprenticeship_id: PathId,
    *,
    parties: PartiesForm | None = None,
    dates: dict[int, SemesterDatesForm] | None = None,
    errors: dict[str, str] | None = None,
    done: str = "",
    status: int = 200,
) -> Response:
    edit = apprenticeship_service.apprenticeship_edit(session, user, apprenticeship_id)
    appr = edit.apprenticeship
    return _render(
        request,
        "admin/apprenticeship.html",
        {
            "edit": edit,
            "options": apprenticeship_service.apprenticeship_options(session, user),
            "parties": parties
            or PartiesForm(tutor_email=appr.tutor.email, supervisor_email=appr.supervisor.email),
            "dates": dates or {},
            "errors": errors or {},
            "done": done,
        },
        status=status,
    )


@router.get("/apprenticeships/{apprenticeship_id}", response_class=HTMLResponse)
def apprenticeship_page(
    apprenticeship_id: PathId,
    request: Request,
    session: DbSession,
    user: AdminUser,
    done: Done = "",
) -> Response:
    return _apprenticeship_page(request, session, user, apprenticeship_id, done=done)


@router.post("/apprenticeships/{apprenticeship_id}/parties", response_class=HTMLResponse)
def change_parties(
    apprenticeship_id: PathId,
    form: Annotated[PartiesForm, Form()],
    request: Request,
    session: DbSession,
    user: AdminUser,
) -> Response:
    try:
        apprenticeship_service.change_parties(
            session,
            user,
            apprenticeship_id,
            tutor_email=form.tutor_email,
            supervisor_email=form.supervisor_email,
            ip=client_ip(request),
        )
    except FORM_ERRORS as exc:
        errors = form_errors(request.state.locale, exc, prefix="parties-")
        return _apprenticeship_page(
            request,
            session,
            user,
            apprenticeship_id,
            parties=form,
            errors=errors,
            status=exc.status_code,
        )
    return _see_other(f"/admin/apprenticeships/{apprenticeship_id}?done=parties")


@router.post(
    "/apprenticeships/{apprenticeship_id}/semesters/{semester}", response_class=HTMLResponse
)
def adjust_semester_dates(
    apprenticeship_id: PathId,
    form: Annotated[SemesterDatesForm, Form()],
    request: Request,
    session: DbSession,
    user: AdminUser,
    semester: Annotated[int, Path(ge=1, le=12)],
) -> Response:
    try:
        review_workflow.adjust_dates(
            session,
            user,
            apprenticeship_id,
            semester,
            starts_on=form.starts_on,
            ends_on=form.ends_on,
            ip=client_ip(request),
        )
    except FORM_ERRORS as exc:
        errors = form_errors(request.state.locale, exc, prefix=f"s{semester}-")
        return _apprenticeship_page(
            request,
            session,
            user,
            apprenticeship_id,
            dates={semester: form},
            errors=errors,
            status=exc.status_code,
        )
    return _see_other(f"/admin/apprenticeships/{apprenticeship_id}?done=dates#semester-{semester}")


# --- CSV import -------------------------------------------------------------------------------


@router.get("/import", response_class=HTMLResponse)
def import_page(
    request: Request,
    user: AdminUser,
    created: Annotated[int | None, Query(ge=0, le=MAX_DB_INT)] = None,
    users: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
    companies: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
    invited: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
) -> Response:
    result = (
        csv_import.ImportResult(created, users, companies, invited=invited)
        if created is not None
        else None
    )
    return _render(request, "admin/import.html", {"plan": None, "result": result, **_limits()})


def _limits() -> dict[str, Any]:
    return {
        "max_rows": csv_import.MAX_ROWS,
        "preview_rows": PREVIEW_ROWS,
        "max_mb": csv_import.MAX_BYTES // 2**20,
        "required_columns": csv_import.REQUIRED_COLUMNS,
        "optional_columns": csv_import.OPTIONAL_COLUMNS,
        "french_columns": csv_import.FRENCH_COLUMNS,
        "example": csv_import.example_csv().replace("\r\n", "\n").strip(),
    }


@router.get("/import/template.csv", response_class=Response)
def import_template(user: AdminUser) -> Response:
    """The page's example as a file to fill in (UTF-8 with a BOM, for spreadsheets)."""
    return Response(
        ("\ufeff" + csv_import.example_csv()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="livret-import-template.csv"'},
    )


@router.post("/import", response_class=HTMLResponse)
def check_import(
    file: Annotated[UploadFile, File()], request: Request, session: DbSession, user: AdminUser
) -> Response:
    """The dry run: nothing is written."""
    plan = csv_import.validate(session, user, file.file.read(csv_import.MAX_BYTES + 1))
    return _render(
        request,
        "admin/import.html",
        {"plan": plan, "result": None, **_limits()},
        status=200 if plan.ok else 422,
    )


# The confirm form carries the checked file in a text field: allow for the 2 MB file plus
# line-break normalisation and form encoding (the field's own limit is checked below).
@router.post(
    "/import/confirm",
    response_class=HTMLResponse,
    form_limits={"max_part_size": 4 * csv_import.MAX_BYTES},
)
def confirm_import(
    form: Annotated[ConfirmImportForm, Form()],
    request: Request,
    session: DbSession,
    user: AdminUser,
) -> Response:
    """Check the file again, then write everything, or nothing."""
    text = form.csv_text.replace("\r\n", "\n")
    try:
        result = csv_import.run_import(
            session, user, text, ip=client_ip(request), invite=form.invite
        )
    except csv_import.ImportRejected as exc:
        return _render(
            request,
            "admin/import.html",
            {"plan": exc.plan, "result": None, **_limits()},
            status=422,
        )
    return _see_other(
        f"/admin/import?created={result.apprenticeships}"
        f"&users={result.users}&companies={result.companies}&invited={result.invited}"
    )
