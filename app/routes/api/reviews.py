"""Semester reviews over the API: assessments, agreed content, signatures, verification."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request

from app.models import Party, RatingSource
from app.routes.api.deps import ApiUser
from app.schemas.problem import problem_responses
from app.schemas.review import (
    AgreedPut,
    AssessmentPut,
    AssessmentRead,
    CompetencyRow,
    PersonRef,
    RatingIn,
    RatingRead,
    ReopenCreate,
    ReviewDatesPatch,
    ReviewRead,
    ReviewSummary,
    SignatureCheckRead,
    SignatureCreate,
    SignatureRead,
    VerificationRead,
)
from app.services.reviews import detail as review_detail
from app.services.reviews import rules as review_rules
from app.services.reviews import workflow as review_service
from app.services.reviews.detail import ReviewDetail
from app.services.reviews.workflow import RatingInput
from app.web.deps import AppSettings, DbSession, auth_method, client_ip
from app.web.params import PathId, Semester

router = APIRouter(prefix="/apprenticeships/{apprenticeship_id}/reviews", tags=["reviews"])


def _ratings(items: list[RatingIn]) -> list[RatingInput]:
    return [RatingInput(**item.model_dump()) for item in items]


def review_read(detail: ReviewDetail, today: date, overdue_days: int) -> ReviewRead:
    review, ref = detail.review, detail.referential
    block_codes: dict[int, list[str]] = {}
    for block in ref.blocks:
        for item in block.items:
            block_codes.setdefault(item.competency.id, []).append(block.code)

    def rating(source: RatingSource, competency_id: PathId) -> RatingRead | None:
        found = detail.ratings[source].get(competency_id)
        return RatingRead.model_validate(found) if found else None

    return ReviewRead(
        apprenticeship_id=detail.apprenticeship.id,
        rncp_code=ref.rncp_code,
        semester=review.semester,
        starts_on=review.starts_on,
        ends_on=review.ends_on,
        state=review_rules.review_state(review, today),
        overdue=review_rules.is_overdue(review, today, overdue_days),
        version=review.version,
        locked_at=review.locked_at,
        signed_roles=sorted(s.role.value for s in detail.active_signatures),
        agreed_summary=review.agreed_summary,
        agreed_complete=detail.agreed_complete,
        content_hash=detail.content_hash(),
        assessments={
            party.value: AssessmentRead(
                version=a.version,
                general_comment=a.general_comment,
                updated_by=PersonRef.model_validate(a.updated_by) if a.updated_by else None,
            )
            for party, a in detail.assessments.items()
        },
        competencies=[
            CompetencyRow(
                competency_id=c.id,
                code=c.code,
                statement=c.statement,
                block_codes=block_codes.get(c.id, []),
                apprentice=rating(RatingSource.APPRENTICE, c.id),
                tutor=rating(RatingSource.TUTOR, c.id),
                supervisor=rating(RatingSource.SUPERVISOR, c.id),
                agreed=rating(RatingSource.AGREED, c.id),
                divergent=c.id in detail.divergences,
            )
            for c in ref.competencies
        ],
        signatures=[
            SignatureRead(
                id=s.id,
                role=s.role.value,
                signer=PersonRef.model_validate(s.signer),
                signed_at=s.signed_at,
                ip=s.ip,
                user_agent=s.user_agent,
                method=s.method,
                content_hash=s.content_hash,
                voided_at=s.voided_at,
                void_reason=s.void_reason,
            )
            for s in detail.signatures
        ],
    )


def _read(detail: ReviewDetail, settings: AppSettings) -> ReviewRead:
    return review_read(detail, date.today(), settings.review_overdue_days)


@router.get("", response_model=list[ReviewSummary], responses=problem_responses(401, 404, 422))
def list_reviews(
    apprenticeship_id: PathId, session: DbSession, settings: AppSettings, user: ApiUser
) -> list[ReviewSummary]:
    _appr, reviews = review_detail.list_reviews(session, user, apprenticeship_id)
    today = date.today()
    return [
        ReviewSummary(
            semester=r.semester,
            starts_on=r.starts_on,
            ends_on=r.ends_on,
            state=review_rules.review_state(r, today),
            overdue=review_rules.is_overdue(r, today, settings.review_overdue_days),
            version=r.version,
            locked_at=r.locked_at,
            signed_roles=sorted(s.role.value for s in r.signatures if s.is_active),
        )
        for r in reviews
    ]


@router.get("/{semester}", response_model=ReviewRead, responses=problem_responses(401, 404, 422))
def get_review(
    apprenticeship_id: PathId,
    session: DbSession,
    settings: AppSettings,
    user: ApiUser,
    semester: Semester,
) -> ReviewRead:
    return _read(review_detail.load_detail(session, user, apprenticeship_id, semester), settings)


@router.patch(
    "/{semester}",
    response_model=ReviewRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
def adjust_review_dates(
    apprenticeship_id: PathId,
    body: ReviewDatesPatch,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ApiUser,
    semester: Semester,
) -> ReviewRead:
    detail = review_service.adjust_dates(
        session,
        user,
        apprenticeship_id,
        semester,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        ip=client_ip(request),
    )
    return _read(detail, settings)


@router.put(
    "/{semester}/assessments/{party}",
    response_model=ReviewRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
def put_assessment(
    apprenticeship_id: PathId,
    party: Party,
    body: AssessmentPut,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ApiUser,
    semester: Semester,
) -> ReviewRead:
    detail = review_service.save_assessment(
        session,
        user,
        apprenticeship_id,
        semester,
        party,
        version=body.version,
        ratings=_ratings(body.ratings),
        general_comment=body.general_comment,
        ip=client_ip(request),
    )
    return _read(detail, settings)


@router.put(
    "/{semester}/agreed",
    response_model=ReviewRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
def put_agreed(
    apprenticeship_id: PathId,
    body: AgreedPut,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ApiUser,
    semester: Semester,
) -> ReviewRead:
    detail = review_service.save_agreed(
        session,
        user,
        apprenticeship_id,
        semester,
        version=body.version,
        ratings=_ratings(body.ratings),
        summary=body.summary,
        ip=client_ip(request),
    )
    return _read(detail, settings)


@router.post(
    "/{semester}/signatures",
    response_model=ReviewRead,
    status_code=201,
    responses=problem_responses(
        401,
        403,
        404,
        409,
        413,
        422,
        429,
        notes={
            403: "Not allowed: the caller does not hold this role, the password is wrong, the "
            "browser session was opened with an emailed sign-in link (it signs on the review "
            "page, with an emailed code), or a browser-session call lacks its CSRF token.",
            409: "The review cannot be signed now: it is locked, its agreed content is "
            "incomplete, or it is already signed in this role.",
            429: "Too many failed sign-ins or signing attempts for this account; wait, then "
            "try again.",
        },
    ),
)
def sign_review(
    apprenticeship_id: PathId,
    body: SignatureCreate,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ApiUser,
    semester: Semester,
) -> ReviewRead:
    detail = review_service.sign(
        session,
        settings,
        user,
        apprenticeship_id,
        semester,
        body.role,
        password=body.password,
        auth_method=auth_method(request),
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent"),
    )
    return _read(detail, settings)


@router.post(
    "/{semester}/reopen",
    response_model=ReviewRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
def reopen_review(
    apprenticeship_id: PathId,
    body: ReopenCreate,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ApiUser,
    semester: Semester,
) -> ReviewRead:
    detail = review_service.reopen(
        session, user, apprenticeship_id, semester, reason=body.reason, ip=client_ip(request)
    )
    return _read(detail, settings)


@router.get(
    "/{semester}/verification",
    response_model=VerificationRead,
    responses=problem_responses(401, 404, 422),
)
def verify_review(
    apprenticeship_id: PathId, session: DbSession, user: ApiUser, semester: Semester
) -> VerificationRead:
    detail = review_detail.load_detail(session, user, apprenticeship_id, semester)
    result = detail.verification()
    return VerificationRead(
        content_hash=result.content_hash,
        intact=result.intact,
        signatures=[
            SignatureCheckRead(
                signature_id=c.signature.id,
                role=c.signature.role.value,
                signer=PersonRef.model_validate(c.signature.signer),
                signed_at=c.signature.signed_at,
                status=c.status,
            )
            for c in result.checks
        ],
    )
