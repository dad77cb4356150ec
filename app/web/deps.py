"""Dependencies of every route: settings, the request's database session (one per request,
committed before the response), the current user and the request's language."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import locale_from_accept_language, pick_locale
from app.models import User
from app.services import access as access_rules
from app.services.access import may_follow_cohorts
from app.services.errors import DomainError, Forbidden, Unauthenticated
from app.services.people import auth as auth_service
from app.web.csrf import session_cookie

log = logging.getLogger("livret.web")

LANG_COOKIE = "livret_lang"


@dataclass(frozen=True)
class Viewer:
    """A plain snapshot of the signed-in user for templates: still valid after the request's
    session has rolled back (error pages) and never triggers a query."""

    id: int
    full_name: str
    email: str
    is_admin: bool
    follows_cohorts: bool = False  # sees the cohort dashboard (supervisors and admins)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def request_transaction(session: Session) -> Iterator[Session]:
    """Yield the request's session: commit on success, roll back on error, except for domain
    errors that ask to keep their writes (a failed login must still count toward the
    throttle, and be audited)."""
    try:
        yield session
        session.commit()
    except DomainError as exc:
        if exc.commit_writes:
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_db(request: Request) -> Iterator[Session]:
    """One session per request; committed before the response is sent (function scope)."""
    yield from request_transaction(request.app.state.session_factory())


DbSession = Annotated[Session, Depends(get_db, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _resolve_user(request: Request, session: Session, settings: Settings) -> User | None:
    if hasattr(request.state, "user"):
        user: User | None = request.state.user
        return user
    user = None
    token = session_cookie(request)
    if token:
        live = auth_service.resolve_session(session, settings, token)
        if live is not None:
            user = live.user
            # Plain values: error pages render after the session has rolled back.
            request.state.auth_method = live.auth_session.auth_method
            request.state.supervises = live.supervises
    request.state.user = user
    if user is not None:
        request.state.locale = user.locale
        request.state.viewer = Viewer(
            user.id,
            user.full_name,
            user.email,
            user.is_admin,
            may_follow_cohorts(user, supervises=getattr(request.state, "supervises", False)),
        )
    return user


def auth_method(request: Request) -> str:
    """How the browser session was opened: "password" or "link" (emailed sign-in link)."""
    method: str = getattr(request.state, "auth_method", "password")
    return method


def optional_user(request: Request, session: DbSession, settings: AppSettings) -> User | None:
    return _resolve_user(request, session, settings)


def require_user(request: Request, session: DbSession, settings: AppSettings) -> User:
    user = _resolve_user(request, session, settings)
    if user is None:
        raise Unauthenticated("Please sign in to continue.")
    return user


def require_cohort_follower(request: Request, user: Annotated[User, Depends(require_user)]) -> User:
    """Academic supervisors and administrators (the cohort dashboard and its exports)."""
    access_rules.require_cohort_follower(
        user, supervises=getattr(request.state, "supervises", False)
    )
    return user


def require_admin_user(user: Annotated[User, Depends(require_user)]) -> User:
    if not user.is_admin:
        raise Forbidden("Only an administrator may do this.")
    return user


CurrentUser = Annotated[User, Depends(require_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
AdminUser = Annotated[User, Depends(require_admin_user)]
CohortFollower = Annotated[User, Depends(require_cohort_follower)]


def request_locale(request: Request) -> str:
    return pick_locale(
        request.cookies.get(LANG_COOKIE),
        locale_from_accept_language(request.headers.get("Accept-Language")),
    )
