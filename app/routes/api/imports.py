"""The CSV import over the API: a dry run (`?dry_run=true`) reports, the import commits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from app.i18n import translate
from app.routes.api.deps import ApiUser
from app.schemas.problem import problem_responses
from app.schemas.school import (
    ImportCompanyRead,
    ImportLineError,
    ImportPersonRead,
    ImportReport,
    ImportResultRead,
)
from app.services.school import csv_import
from app.web.deps import DbSession, client_ip

router = APIRouter(tags=["school"])

# The body is read by hand (it is a file, not JSON), so describe it for the OpenAPI document.
CSV_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The CSV file itself, UTF-8, `,` or `;` separated, at most "
        f"{csv_import.MAX_BYTES // 2**20} MB and {csv_import.MAX_ROWS} rows; the columns are "
        "those of the admin import page's template (`GET /admin/import/template.csv`).",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


async def csv_body(request: Request) -> bytes:
    """The request body as it came (the app's body cap answers 413 past its limit)."""
    return await request.body()


CsvBody = Annotated[bytes, Depends(csv_body)]


def report(plan: csv_import.ImportPlan, locale: str) -> ImportReport:
    return ImportReport(
        ok=plan.ok,
        rows=len(plan.rows),
        error_count=plan.error_count,
        errors=[
            ImportLineError(
                line=e.line, column=e.column, message=translate(locale, e.message, **e.params)
            )
            for e in plan.errors
        ],
        new_people=[
            ImportPersonRead(email=p.email, full_name=p.name, locale=p.locale)
            for p in plan.new_people
        ],
        new_companies=[ImportCompanyRead(name=c.name, siret=c.siret) for c in plan.new_companies],
    )


@router.post(
    "/imports",
    status_code=201,
    response_model=ImportResultRead,
    responses={
        200: {
            "model": ImportReport,
            "description": "`dry_run=true`: the report, whether or not the file is valid. "
            "Nothing was written.",
        },
        201: {"description": "Imported: what was created, all in one transaction."},
        **problem_responses(
            401,
            403,
            413,
            422,
            notes={
                422: "The file has errors and nothing was imported; a dry run reports them "
                "line by line."
            },
        ),
    },
    openapi_extra=CSV_OPENAPI,
)
def import_csv(
    request: Request,
    body: CsvBody,
    session: DbSession,
    user: ApiUser,
    dry_run: Annotated[
        bool, Query(description="Check the file and report what it would create; write nothing.")
    ] = False,
    invite: Annotated[
        bool,
        Query(
            description="Email each new person an invitation to choose a password, in their "
            "language (in the same transaction)."
        ),
    ] = False,
) -> Any:
    """Accounts, companies and apprenticeships from a CSV file: all of it, or nothing."""
    if dry_run:
        plan = csv_import.validate(session, user, body)
        return JSONResponse(
            report(plan, getattr(request.state, "locale", "fr")).model_dump(mode="json")
        )
    result = csv_import.run_import_file(session, user, body, ip=client_ip(request), invite=invite)
    return ImportResultRead(
        apprenticeships=result.apprenticeships,
        users=result.users,
        companies=result.companies,
        apprenticeship_ids=list(result.apprenticeship_ids),
        user_ids=list(result.user_ids),
        company_ids=list(result.company_ids),
        invited=result.invited,
    )
