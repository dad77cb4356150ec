"""Login (password or emailed sign-in link), logout and the language switch."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import LOCALES, N_, translate
from app.models import User
from app.schemas.common import SafeStr
from app.services.people import auth as auth_service
from app.services.people import rules as people_rules
from app.services.people import signin_links
from app.services.people import users as users_service
from app.services.people.auth import LoginOutcome
from app.web.csrf import session_cookie, session_cookie_name
from app.web.deps import LANG_COOKIE, AppSettings, DbSession, OptionalUser, client_ip
from app.web.templating import templates

router = APIRouter(tags=["auth"])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login page cannot redirect off-site."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    user: OptionalUser,
    next: Annotated[SafeStr | None, Query(max_length=2000)] = None,
) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return templates.TemplateResponse(
        request, "auth/login.html", {"next": _safe_next(next), "email": "", "error": None}
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    email: Annotated[SafeStr, Form(max_length=people_rules.EMAIL_MAX)],
    password: Annotated[SafeStr, Form(max_length=people_rules.PASSWORD_MAX)],
    next: Annotated[SafeStr, Form(max_length=2000)] = "/",
) -> Response:
    result = auth_service.authenticate(session, settings, email, password, client_ip(request))
    if result.outcome is not LoginOutcome.OK or result.user is None:
        throttled = result.outcome is LoginOutcome.THROTTLED
        message = auth_service.THROTTLED_MESSAGE if throttled else N_("Wrong email or password.")
        error = translate(
            request.state.locale, message, minutes=settings.login_failure_window_minutes
        )
        return templates.TemplateResponse(
            request,
            "auth/login.html",
            {"next": _safe_next(next), "email": email, "error": error},
            status_code=429 if throttled else 401,
            headers={"Retry-After": str(settings.login_failure_window_minutes * 60)}
            if throttled
            else None,
        )
    return signed_in(request, session, settings, result.user, _safe_next(next), "password")


def signed_in(
    request: Request,
    session: Session,
    settings: Settings,
    user: User,
    target: str,
    method: str,
) -> Response:
    """Open a session for ``user`` (rotating any the browser came with) and redirect."""
    auth_service.purge_expired(session, settings)  # housekeeping, cheap with the indexes
    # Rotate: any session the browser came with is dropped; the new one has a fresh id.
    old_token = session_cookie(request)
    if old_token:
        auth_service.close_session(session, old_token, client_ip(request))
    token = auth_service.open_session(
        session,
        settings,
        user,
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent"),
        method=method,
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        session_cookie_name(settings),
        token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.session_absolute_hours * 3600,
    )
    response.set_cookie(
        LANG_COOKIE,
        user.locale,
        samesite="lax",
        max_age=365 * 86400,
        secure=settings.secure_cookies,
    )
    return response


# --- Sign-in links by email -------------------------------------------------------------------


@router.post("/login/link")
def request_signin_link(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    email: Annotated[SafeStr, Form(max_length=people_rules.EMAIL_MAX)],
) -> Response:
    """Queue a sign-in link if the account may have one; the answer never tells."""
    signin_links.request_link(session, settings, email, ip=client_ip(request))
    return RedirectResponse("/login/link/sent", status_code=303)


@router.get("/login/link/sent", response_class=HTMLResponse)
def signin_link_sent(request: Request, settings: AppSettings) -> Response:
    return templates.TemplateResponse(
        request, "auth/link_sent.html", {"minutes": settings.signin_link_minutes}
    )


@router.get("/login/link/{token}", response_class=HTMLResponse)
def signin_link_page(
    request: Request, session: DbSession, token: Annotated[SafeStr, Path(max_length=100)]
) -> Response:
    """A confirmation page: fetching the link (as mail scanners do) does not use it."""
    usable = signin_links.link_is_usable(session, token)
    return templates.TemplateResponse(
        request,
        "auth/link_confirm.html",
        {"token": token, "usable": usable},
        status_code=200 if usable else 400,
        headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"},
    )


@router.post("/login/link/{token}", response_class=HTMLResponse)
def signin_with_link(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    token: Annotated[SafeStr, Path(max_length=100)],
) -> Response:
    user = signin_links.consume_link(session, token, ip=client_ip(request))
    if user is None:
        return templates.TemplateResponse(
            request,
            "auth/link_confirm.html",
            {"token": token, "usable": False},
            status_code=400,
            headers={"Cache-Control": "no-store"},
        )
    return signed_in(request, session, settings, user, "/", "link")


@router.post("/logout")
def logout(request: Request, session: DbSession) -> Response:
    token = session_cookie(request)
    if token:
        auth_service.close_session(session, token, client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        session_cookie_name(request.app.state.settings),
        secure=request.app.state.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


@router.post("/language")
def switch_language(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: OptionalUser,
    locale: Annotated[SafeStr, Form(max_length=2)],
    next: Annotated[SafeStr, Form(max_length=2000)] = "/",
) -> Response:
    locale = locale if locale in LOCALES else "fr"
    if user is not None:
        users_service.set_locale(session, user, locale)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE, locale, samesite="lax", max_age=365 * 86400, secure=settings.secure_cookies
    )
    return response
