"""English results and mobility periods over the API."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.models import EnglishResult
from app.routes.api.deps import ApiUser
from app.routes.api.journal import UPLOAD_OPENAPI, Upload, attachment_read
from app.schemas.degree import (
    EnglishResultCreate,
    EnglishResultRead,
    MobilityPeriodCreate,
    MobilityPeriodRead,
)
from app.schemas.journal import AttachmentRead
from app.schemas.problem import problem_responses
from app.services.degree_conditions import evidence as degree_service
from app.services.documents import attachments as attachment_service
from app.web.deps import AppSettings, DbSession, client_ip
from app.web.params import PathId

router = APIRouter(tags=["degree"])


def english_result_read(result: EnglishResult) -> EnglishResultRead:
    return EnglishResultRead(
        id=result.id,
        apprenticeship_id=result.apprenticeship_id,
        test_name=result.test_name,
        score=result.score,
        cefr_level=result.cefr_level,
        taken_on=result.taken_on,
        attachments=[attachment_read(a) for a in result.attachments],
        created_at=result.created_at,
    )


@router.get(
    "/apprenticeships/{apprenticeship_id}/english-results",
    response_model=list[EnglishResultRead],
    responses=problem_responses(401, 404, 422),
)
def list_english_results(
    apprenticeship_id: PathId, session: DbSession, user: ApiUser
) -> list[EnglishResultRead]:
    return [
        english_result_read(r)
        for r in degree_service.list_english_results(session, user, apprenticeship_id)
    ]


@router.post(
    "/apprenticeships/{apprenticeship_id}/english-results",
    response_model=EnglishResultRead,
    status_code=201,
    responses=problem_responses(401, 403, 404, 413, 422),
)
def create_english_result(
    apprenticeship_id: PathId,
    body: EnglishResultCreate,
    request: Request,
    session: DbSession,
    user: ApiUser,
) -> EnglishResultRead:
    result = degree_service.create_english_result(
        session,
        user,
        apprenticeship_id,
        degree_service.EnglishResultInput(**body.model_dump()),
        ip=client_ip(request),
    )
    return english_result_read(result)


@router.post(
    "/english-results/{result_id}/attachments",
    response_model=AttachmentRead,
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
    openapi_extra=UPLOAD_OPENAPI,
)
def upload_english_certificate(
    result_id: PathId,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ApiUser,
    upload: Upload,
) -> AttachmentRead:
    attachment = attachment_service.add_to_english_result(
        session,
        user,
        settings.attachments_dir,
        result_id,
        upload.file,
        upload.filename,
        ip=client_ip(request),
    )
    return attachment_read(attachment)


@router.get(
    "/apprenticeships/{apprenticeship_id}/mobility-periods",
    response_model=list[MobilityPeriodRead],
    responses=problem_responses(401, 404, 422),
)
def list_mobility_periods(
    apprenticeship_id: PathId, session: DbSession, user: ApiUser
) -> list[MobilityPeriodRead]:
    return [
        MobilityPeriodRead.model_validate(p)
        for p in degree_service.list_mobility_periods(session, user, apprenticeship_id)
    ]


@router.post(
    "/apprenticeships/{apprenticeship_id}/mobility-periods",
    response_model=MobilityPeriodRead,
    status_code=201,
    responses=problem_responses(401, 403, 404, 413, 422),
)
def create_mobility_period(
    apprenticeship_id: PathId,
    body: MobilityPeriodCreate,
    request: Request,
    session: DbSession,
    user: ApiUser,
) -> MobilityPeriodRead:
    period = degree_service.create_mobility_period(
        session,
        user,
        apprenticeship_id,
        degree_service.MobilityInput(**body.model_dump()),
        ip=client_ip(request),
    )
    return MobilityPeriodRead.model_validate(period)
