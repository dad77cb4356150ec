"""People over the API: who is calling."""

from __future__ import annotations

from fastapi import APIRouter

from app.routes.api.deps import ApiUser
from app.schemas.people import MeRead, RoleRead
from app.schemas.problem import problem_responses
from app.services.access import roles_of
from app.services.reviews.rules import PARTIES
from app.services.school import apprenticeships as apprenticeship_service
from app.web.deps import DbSession

router = APIRouter(tags=["people"])


@router.get("/me", response_model=MeRead, responses=problem_responses(401))
def me(session: DbSession, user: ApiUser) -> MeRead:
    """The caller's account and their roles in each apprenticeship they take part in (an
    administrator sees every apprenticeship, with no role in most)."""
    roles = [
        RoleRead(
            apprenticeship_id=appr.id,
            roles=[p for p in PARTIES if p in roles_of(user, appr)],
        )
        for appr in apprenticeship_service.taking_part(session, user)
    ]
    return MeRead(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        locale=user.locale,
        is_admin=user.is_admin,
        apprenticeships=roles,
    )
