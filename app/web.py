"""Request plumbing shared by every route: templates, DB session, current user, CSRF."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import LOCALES, get_translations, locale_from_accept_language, pick_locale
from app.models import User
from app.services.errors import DomainError, Forbidden, Unauthenticated
from app.services.people import auth as auth_service
from app.services.referentials.views import short_code

log = logging.getLogger("livret.web")

SESSION_COOKIE = "livret_session"
CSRF_COOKIE = "livret_csrf"
LANG_COOKIE = "livret_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfError(Forbidden):
    pass


# --- Templates --------------------------------------------------------------------------------


@pass_context
def _gettext(ctx: Context, message: str) -> str:
    return get_translations(ctx["request"].state.locale).gettext(message)


@pass_context
def _ngettext(ctx: Context, singular: str, plural: str, n: int) -> str:
    return get_translations(ctx["request"].state.locale).ngettext(singular, plural, n)


@dataclass(frozen=True)
class Viewer:
    """A plain snapshot of the signed-in user for templates: still valid after the request's
    session has rolled back (error pages) and never triggers a query."""

    id: int
    full_name: str
    email: str
    is_admin: bool


def _base_context(request: Request) -> dict[str, Any]:
    state = request.state
    return {
        "current_user": getattr(state, "viewer", None),
        "locale": getattr(state, "locale", "fr"),
        "csrf_token": getattr(state, "csrf_token", ""),
        "locales": LOCALES,
    }


def _localized(ctx: Context, fr: str, en: str | None) -> str:
    return en if ctx["request"].state.locale == "en" and en else fr


_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "xml"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env, context_processors=[_base_context])
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=_gettext, ngettext=_ngettext, newstyle=True
)
templates.env.globals["l10n"] = pass_context(_localized)


@pass_context
def _stored_message(ctx: Context, text: str) -> str:
    """Translate a stored msgid (e.g. a void reason) without %-formatting free text."""
    return get_translations(ctx["request"].state.locale).gettext(text)


templates.env.globals["stored_message"] = _stored_message
templates.env.filters["short_code"] = short_code


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def is_htmx_partial(request: Request) -> bool:
    """An htmx request that wants a fragment. History restores (back button with an empty
    cache) get the full page."""
    return is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"


def parse_form_date(raw: str) -> date | None:
    """An ISO date typed in a form, or None when it is not one."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


# --- Settings and database --------------------------------------------------------------------


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


# --- CSRF -------------------------------------------------------------------------------------


def csrf_token_for(secret: str, seed: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{seed}".encode(), hashlib.sha256).hexdigest()


def csrf_seed(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(CSRF_COOKIE)


async def csrf_protect(request: Request) -> None:
    """Refuse state-changing requests that lack the token bound to this browser.

    API calls without a session cookie carry no ambient credential, so they need none."""
    if request.method in SAFE_METHODS:
        return
    if request.url.path.startswith("/api/") and not request.cookies.get(SESSION_COOKIE):
        return  # no ambient credential: bearer-token and token-issuing calls need no token
    seed = csrf_seed(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    settings: Settings = request.app.state.settings
    expected = csrf_token_for(settings.effective_secret_key, seed) if seed else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        log.warning("CSRF check failed for %s %s", request.method, request.url.path)
        raise CsrfError("The form has expired or did not come from Livret. Reload and retry.")


# --- Current user -----------------------------------------------------------------------------


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _resolve_user(request: Request, session: Session, settings: Settings) -> User | None:
    if hasattr(request.state, "user"):
        user: User | None = request.state.user
        return user
    user = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        auth_session = auth_service.resolve_session(session, settings, token)
        if auth_session is not None:
            user = auth_session.user
            request.state.auth_session = auth_session
    request.state.user = user
    if user is not None:
        request.state.locale = user.locale
        request.state.viewer = Viewer(user.id, user.full_name, user.email, user.is_admin)
    return user


def auth_method(request: Request) -> str:
    """How the browser session was opened: "password" or "link" (emailed sign-in link)."""
    auth_session = getattr(request.state, "auth_session", None)
    return auth_session.auth_method if auth_session is not None else "password"


def optional_user(request: Request, session: DbSession, settings: AppSettings) -> User | None:
    return _resolve_user(request, session, settings)


def require_user(request: Request, session: DbSession, settings: AppSettings) -> User:
    user = _resolve_user(request, session, settings)
    if user is None:
        raise Unauthenticated("Please sign in to continue.")
    return user


def require_admin_user(user: Annotated[User, Depends(require_user)]) -> User:
    if not user.is_admin:
        raise Forbidden("Only an administrator may do this.")
    return user


CurrentUser = Annotated[User, Depends(require_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
AdminUser = Annotated[User, Depends(require_admin_user)]


def request_locale(request: Request) -> str:
    return pick_locale(
        request.cookies.get(LANG_COOKIE),
        locale_from_accept_language(request.headers.get("Accept-Language")),
    )


__all__ = [
    "AdminUser",
    "AppSettings",
    "CurrentUser",
    "DbSession",
    "DomainError",
    "OptionalUser",
    "templates",
]
