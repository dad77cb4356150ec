"""People over the API: who is calling, and the accounts administrators manage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.models import User
from app.routes.api.deps import ApiUser
from app.schemas.common import SafeStr
from app.schemas.people import (
    MeRead,
    RoleRead,
    UserCreate,
    UserDetailRead,
    UserPageRead,
    UserRead,
    UserUpdate,
)
from app.schemas.problem import problem_responses
from app.services.access import roles_of
from app.services.people import accounts
from app.services.people.rules import account_status
from app.services.reviews.rules import PARTIES
from app.services.school import apprenticeships as apprenticeship_service
from app.web.deps import DbSession, client_ip
from app.web.params import PageNumber, PathId

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


# --- Accounts, as administrators manage them ----------------------------------------------


def user_read(person: User) -> UserRead:
    return UserRead(
        id=person.id,
        email=person.email,
        full_name=person.full_name,
        locale=person.locale,
        is_admin=person.is_admin,
        is_active=person.is_active,
        has_password=person.password_hash is not None,
        status=account_status(person).value,
        invited_at=person.invited_at,
        last_login_at=person.last_login_at,
    )


def user_detail_read(detail: accounts.UserDetail) -> UserDetailRead:
    person = detail.user
    return UserDetailRead(
        **user_read(detail.user).model_dump(),
        apprenticeships=[
            RoleRead(
                apprenticeship_id=appr.id,
                roles=[p for p in PARTIES if p in roles_of(person, appr)],
            )
            for appr in detail.apprenticeships
        ],
    )


@router.get("/users", response_model=UserPageRead, responses=problem_responses(401, 403, 422))
def list_users(
    session: DbSession,
    user: ApiUser,
    q: Annotated[SafeStr, Query(max_length=100, description="Part of a name or email.")] = "",
    page: PageNumber = 1,
) -> UserPageRead:
    """Accounts by name, 25 a page, searched as the admin page searches them."""
    found = accounts.list_users(session, user, q=q, page=page)
    return UserPageRead(
        items=[user_read(u) for u in found.rows],
        total=found.total,
        page=found.page,
        pages=found.pages,
        q=found.q,
    )


@router.post(
    "/users",
    response_model=UserDetailRead,
    status_code=201,
    responses=problem_responses(
        401, 403, 409, 413, 422, notes={409: "An account with this email already exists."}
    ),
)
def create_user(
    body: UserCreate, request: Request, session: DbSession, user: ApiUser
) -> UserDetailRead:
    created = accounts.create_user(
        session,
        user,
        accounts.UserInput(
            **body.model_dump(exclude={"locale"}),
            locale=body.locale or request.app.state.settings.default_locale,
        ),
        ip=client_ip(request),
        settings=request.app.state.settings,
    )
    return user_detail_read(accounts.user_detail(session, user, created.id))


@router.get(
    "/users/{user_id}",
    response_model=UserDetailRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_user(user_id: PathId, session: DbSession, user: ApiUser) -> UserDetailRead:
    """An account and its roles (administrator; apprentice, tutor or supervisor of which
    apprenticeships)."""
    return user_detail_read(accounts.user_detail(session, user, user_id))


@router.patch(
    "/users/{user_id}",
    response_model=UserDetailRead,
    responses=problem_responses(
        401, 403, 404, 409, 413, 422, notes={409: "Another account has this email."}
    ),
)
def update_user(
    user_id: PathId, body: UserUpdate, request: Request, session: DbSession, user: ApiUser
) -> UserDetailRead:
    """Change the name, email, language or administrator flag. Administrators cannot remove
    their own flag (422)."""
    changed = accounts.update_user(
        session,
        user,
        user_id,
        accounts.UserUpdate(**body.model_dump(exclude_unset=True)),
        ip=client_ip(request),
    )
    return user_detail_read(accounts.user_detail(session, user, changed.id))
