"""Invitations over the API (administrators): send one person's, or several at once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import Field

from app.i18n import translate
from app.routes.api.deps import ApiUser
from app.schemas.common import BodyId, WriteModel
from app.schemas.people import InvitationBatchRead, InvitationRead, SkippedInvitation
from app.schemas.problem import problem_responses
from app.services.people import invitations
from app.services.people.rules import account_status
from app.web.deps import AppSettings, DbSession, client_ip
from app.web.params import PathId

router = APIRouter(tags=["people"])

MAX_BATCH = 5000


class InvitationBatch(WriteModel):
    """Whom to invite: the ids of accounts (e.g. those a CSV import created)."""

    user_ids: list[BodyId] = Field(min_length=1, max_length=MAX_BATCH)


@router.post(
    "/users/{user_id}/invitations",
    response_model=InvitationRead,
    status_code=201,
    responses=problem_responses(
        401, 403, 404, 409, 422, notes={409: "The account has a password or is deactivated."}
    ),
)
def invite_user(
    user_id: PathId, request: Request, session: DbSession, settings: AppSettings, user: ApiUser
) -> InvitationRead:
    """Email the person an invitation to choose a password, in their language; an earlier
    invitation stops working."""
    person = invitations.invite(session, settings, user, user_id, ip=client_ip(request))
    assert person.invited_at is not None
    return InvitationRead(
        user_id=person.id,
        email=person.email,
        locale=person.locale,
        status=account_status(person).value,
        invited_at=person.invited_at,
        valid_days=settings.invitation_days,
    )


@router.post(
    "/invitations",
    response_model=InvitationBatchRead,
    status_code=201,
    responses=problem_responses(401, 403, 413, 422),
)
def invite_several(
    body: InvitationBatch,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ApiUser,
) -> InvitationBatchRead:
    """Invite each listed account that may be invited (active, no password); the others are
    listed as skipped with the reason. Unknown ids are ignored."""
    report = invitations.invite_many(session, settings, user, body.user_ids, ip=client_ip(request))
    return InvitationBatchRead(
        sent=[p.id for p in report.sent],
        skipped=[
            SkippedInvitation(user_id=p.id, reason=translate(user.locale, reason))
            for p, reason in report.skipped
        ],
    )
