"""Deactivating and reactivating an account over the API (administrators only), with the same
safeguard as the admin page: an account that takes part in active apprenticeships is
deactivated once each of them has a replacement or is explicitly confirmed."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.routes.api.deps import ApiUser
from app.routes.api.people import user_read
from app.schemas.deactivation import DeactivationCreate
from app.schemas.people import UserRead
from app.schemas.problem import problem_responses
from app.services.people import accounts
from app.web.deps import DbSession, client_ip
from app.web.params import PathId

router = APIRouter(prefix="/users/{user_id}/deactivation", tags=["people"])

UNSETTLED = (
    "The account takes part in active apprenticeships that were neither given a replacement "
    "nor confirmed (or the confirmed ones are no longer exactly those): `detail` names them. "
    "Also: administrators cannot deactivate their own account."
)


@router.post(
    "",
    response_model=UserRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422, notes={409: UNSETTLED}),
)
def deactivate(
    user_id: PathId, body: DeactivationCreate, request: Request, session: DbSession, user: ApiUser
) -> UserRead:
    """Deactivate the account: the person is signed out everywhere and their API tokens are
    deleted. Each active apprenticeship they take part in must be settled in the same call:
    a new tutor or supervisor in `replacements`, or its id in `confirm_apprenticeships`."""
    account = accounts.set_active(
        session,
        user,
        user_id,
        False,
        confirm_apprenticeships=body.confirm_apprenticeships,
        replacements={r.apprenticeship_id: r.email for r in body.replacements},
        ip=client_ip(request),
    )
    return user_read(account)


@router.delete("", status_code=204, responses=problem_responses(401, 403, 404, 422))
def reactivate(user_id: PathId, request: Request, session: DbSession, user: ApiUser) -> Response:
    """Reactivate the account (the person signs in again with their password or a link)."""
    accounts.set_active(session, user, user_id, True, ip=client_ip(request))
    return Response(status_code=204)
