"""The work-situation journal and its attachments over the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from app.models import Attachment, SituationStatus, WorkSituation
from app.routes.api.deps import ApiUser
from app.routes.uploads import Upload
from app.schemas.apprenticeship import PersonRead
from app.schemas.common import SafeStr
from app.schemas.journal import (
    AcknowledgementCreate,
    AttachmentRead,
    ChangeRequestCreate,
    SituationCompetencyRead,
    WorkSituationCreate,
    WorkSituationPage,
    WorkSituationRead,
    WorkSituationUpdate,
)
from app.schemas.problem import problem_responses
from app.services.documents import attachments as attachment_service
from app.services.documents import storage
from app.services.journal import rules as journal_rules
from app.services.journal import situations as journal_service
from app.web.deps import AppSettings, DbSession, client_ip
from app.web.params import PathId

router = APIRouter(tags=["journal"])

DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


class AttachmentFile(FileResponse):
    """An attachment's file, streamed. A Range request gets its part (206); a Range it cannot
    serve, malformed or past the end, is ignored and the whole file sent (RFC 9110 lets a
    server ignore Range), instead of Starlette's plain-text 400 or 416: the API's errors are
    all problem+json. This overrides a private Starlette hook; tests/test_openapi.py checks
    that it still applies."""

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            return super()._parse_range_header(http_range, file_size)
        except (MalformedRangeHeader, RangeNotSatisfiable):
            return []  # no range: the whole file


# The body is parsed by hand (to cap its size), so describe it for the OpenAPI document.
UPLOAD_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


# --- Read models ------------------------------------------------------------------------------


def attachment_read(attachment: Attachment) -> AttachmentRead:
    return AttachmentRead(
        id=attachment.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size_bytes=attachment.size_bytes,
        sha256=attachment.sha256,
        uploaded_at=attachment.uploaded_at,
        uploaded_by_id=attachment.uploaded_by_id,
        url=f"/api/v1/attachments/{attachment.id}",
    )


def situation_read(situation: WorkSituation) -> WorkSituationRead:
    return WorkSituationRead(
        id=situation.id,
        apprenticeship_id=situation.apprenticeship_id,
        title=situation.title,
        starts_on=situation.starts_on,
        ends_on=situation.ends_on,
        context=situation.context,
        actions=situation.actions,
        results=situation.results,
        learnings=situation.learnings,
        status=situation.status,
        version=situation.version,
        submitted_at=situation.submitted_at,
        acknowledged_at=situation.acknowledged_at,
        reviewed_by=PersonRead.model_validate(situation.reviewed_by)
        if situation.reviewed_by
        else None,
        tutor_comment=situation.tutor_comment,
        competencies=[
            SituationCompetencyRead(
                id=c.id,
                code=c.code,
                statement=c.statement,
                statement_en=c.statement_en,
                block_code=c.block.code if c.block else None,
            )
            for c in situation.competencies
        ],
        attachments=[attachment_read(a) for a in situation.attachments],
        created_at=situation.created_at,
        updated_at=situation.updated_at,
    )


# --- Work situations --------------------------------------------------------------------------


@router.get(
    "/apprenticeships/{apprenticeship_id}/work-situations",
    response_model=WorkSituationPage,
    responses=problem_responses(401, 404, 422),
)
def list_work_situations(
    apprenticeship_id: PathId,
    session: DbSession,
    user: ApiUser,
    status: SituationStatus | None = None,
    competency: Annotated[
        SafeStr | None,
        Query(pattern=journal_rules.CODE_PATTERN, description="competency code"),
    ] = None,
    block: Annotated[
        SafeStr | None, Query(pattern=journal_rules.CODE_PATTERN, description="block code")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=journal_rules.PAGE_MAX)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> WorkSituationPage:
    page = journal_service.list_situations(
        session,
        user,
        apprenticeship_id,
        journal_service.SituationFilters(
            status=status,
            competency_code=competency,
            block_code=block,
            limit=limit,
            offset=offset,
        ),
    )
    return WorkSituationPage(
        items=[situation_read(s) for s in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post(
    "/apprenticeships/{apprenticeship_id}/work-situations",
    response_model=WorkSituationRead,
    status_code=201,
    responses=problem_responses(401, 403, 404, 413, 422),
)
def create_work_situation(
    apprenticeship_id: PathId,
    body: WorkSituationCreate,
    request: Request,
    session: DbSession,
    user: ApiUser,
) -> WorkSituationRead:
    situation = journal_service.create_situation(
        session,
        user,
        apprenticeship_id,
        journal_service.SituationInput(**body.model_dump()),
        ip=client_ip(request),
    )
    return situation_read(situation)


@router.get(
    "/work-situations/{situation_id}",
    response_model=WorkSituationRead,
    responses=problem_responses(401, 404, 422),
)
def get_work_situation(
    situation_id: PathId, session: DbSession, user: ApiUser
) -> WorkSituationRead:
    return situation_read(journal_service.get_situation(session, user, situation_id))


@router.patch(
    "/work-situations/{situation_id}",
    response_model=WorkSituationRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
def update_work_situation(
    situation_id: PathId,
    body: WorkSituationUpdate,
    request: Request,
    session: DbSession,
    user: ApiUser,
) -> WorkSituationRead:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    situation = journal_service.update_situation(
        session,
        user,
        situation_id,
        body.version,
        journal_service.SituationChanges(**changes),
        ip=client_ip(request),
    )
    return situation_read(situation)


@router.delete(
    "/work-situations/{situation_id}",
    status_code=204,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def delete_work_situation(
    situation_id: PathId, request: Request, session: DbSession, settings: AppSettings, user: ApiUser
) -> Response:
    journal_service.delete_situation(
        session,
        user,
        situation_id,
        attachments_dir=settings.attachments_dir,
        ip=client_ip(request),
    )
    return Response(status_code=204)


@router.post(
    "/work-situations/{situation_id}/submit",
    response_model=WorkSituationRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def submit_work_situation(
    situation_id: PathId, request: Request, session: DbSession, user: ApiUser
) -> WorkSituationRead:
    return situation_read(
        journal_service.submit(session, user, situation_id, ip=client_ip(request))
    )


@router.post(
    "/work-situations/{situation_id}/acknowledge",
    response_model=WorkSituationRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
def acknowledge_work_situation(
    situation_id: PathId,
    request: Request,
    session: DbSession,
    user: ApiUser,
    body: AcknowledgementCreate | None = None,
) -> WorkSituationRead:
    comment = body.comment if body else ""
    return situation_read(
        journal_service.acknowledge(session, user, situation_id, comment, ip=client_ip(request))
    )


@router.post(
    "/work-situations/{situation_id}/request-changes",
    response_model=WorkSituationRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
def request_changes_to_work_situation(
    situation_id: PathId,
    body: ChangeRequestCreate,
    request: Request,
    session: DbSession,
    user: ApiUser,
) -> WorkSituationRead:
    return situation_read(
        journal_service.request_changes(
            session, user, situation_id, body.comment, ip=client_ip(request)
        )
    )


# --- Attachments ------------------------------------------------------------------------------


@router.post(
    "/work-situations/{situation_id}/attachments",
    response_model=AttachmentRead,
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    openapi_extra=UPLOAD_OPENAPI,
)
def upload_work_situation_attachment(
    situation_id: PathId,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ApiUser,
    upload: Upload,
) -> AttachmentRead:
    attachment = attachment_service.add_to_situation(
        session,
        user,
        settings.attachments_dir,
        situation_id,
        upload.file,
        upload.filename,
        ip=client_ip(request),
    )
    return attachment_read(attachment)


@router.get(
    "/work-situations/{situation_id}/attachments",
    response_model=list[AttachmentRead],
    responses=problem_responses(401, 404, 422),
)
def list_work_situation_attachments(
    situation_id: PathId, session: DbSession, user: ApiUser
) -> list[AttachmentRead]:
    return [
        attachment_read(a)
        for a in attachment_service.list_for_situation(session, user, situation_id)
    ]


@router.get(
    "/attachments/{attachment_id}",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The file, in the type it was checked to be when it was uploaded.",
            "content": {content_type: {} for content_type in storage.EXTENSIONS},
        },
        206: {
            "description": "The byte range the Range header asked for; several ranges come "
            "as multipart/byteranges. A Range that cannot be served is ignored (200).",
            "content": {
                content_type: {} for content_type in (*storage.EXTENSIONS, "multipart/byteranges")
            },
        },
        **problem_responses(
            401,
            404,
            422,
            notes={404: "No such attachment, one the caller may not see, or its file is missing."},
        ),
    },
)
def download_attachment(
    attachment_id: PathId, session: DbSession, settings: AppSettings, user: ApiUser
) -> FileResponse:
    download = attachment_service.open_download(
        session, user, settings.attachments_dir, attachment_id
    )
    return AttachmentFile(
        download.path,
        media_type=download.content_type,
        headers={
            **DOWNLOAD_HEADERS,
            "Content-Disposition": storage.content_disposition(download.filename),
        },
    )


@router.delete(
    "/attachments/{attachment_id}",
    status_code=204,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def delete_attachment(
    attachment_id: PathId,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ApiUser,
) -> Response:
    attachment_service.delete_attachment(
        session, user, settings.attachments_dir, attachment_id, ip=client_ip(request)
    )
    return Response(status_code=204)
