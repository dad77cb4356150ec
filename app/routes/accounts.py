"""Self-service accounts: forgot password, password reset, and accepting an invitation.

Thin: each handler parses the form, calls :mod:`app.services.people.password_reset` or
:mod:`app.services.people.invitations`, and renders. Opening a link (GET) never uses it; only
the POST does, so mail scanners that fetch links do not burn them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AccountLinkPurpose, User
from app.routes.auth import signed_in
from app.schemas.common import SafeStr
from app.services.errors import InvalidInput, TooManyRequests
from app.services.people import account_links, invitations, password_reset, signin_links
from app.services.people import rules as people_rules
from app.services.people.account_links import LinkState, LinkUnusable
from app.web.deps import AppSettings, DbSession, client_ip
from app.web.forms import form_errors
from app.web.templating import templates

router = APIRouter(tags=["accounts"])

Token = Annotated[SafeStr, Path(max_length=account_links.TOKEN_MAX)]
Password = Annotated[SafeStr, Form(max_length=people_rules.PASSWORD_MAX)]
NO_STORE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _throttled(request: Request, exc: TooManyRequests, settings: Any) -> Response:
    return templates.TemplateResponse(
        request,
        "auth/forgot.html",
        {"email": "", "errors": form_errors(request.state.locale, exc)},
        status_code=429,
        headers={"Retry-After": str(settings.password_reset_window_minutes * 60)},
    )


# --- Forgot password --------------------------------------------------------------------------


@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "auth/forgot.html", {"email": "", "errors": {}})


@router.post("/password/forgot", response_class=HTMLResponse)
def forgot(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    email: Annotated[SafeStr, Form(max_length=people_rules.EMAIL_MAX)],
) -> Response:
    """The same answer whether or not the address has an account (or 429 for everyone)."""
    try:
        password_reset.request_reset(session, settings, email, ip=client_ip(request))
    except TooManyRequests as exc:
        return _throttled(request, exc, settings)
    return RedirectResponse("/password/forgot/sent", status_code=303)


@router.get("/password/forgot/sent", response_class=HTMLResponse)
def forgot_sent(request: Request, settings: AppSettings) -> Response:
    return templates.TemplateResponse(
        request, "auth/forgot_sent.html", {"minutes": settings.password_reset_minutes}
    )


# --- Choosing a password with a link ----------------------------------------------------------


def _link_page(
    request: Request,
    purpose: AccountLinkPurpose,
    token: str,
    found: account_links.Lookup,
    *,
    links_allowed: bool = False,
    errors: dict[str, str] | None = None,
    status: int | None = None,
) -> Response:
    usable = found.state is LinkState.USABLE
    return templates.TemplateResponse(
        request,
        "auth/account_link.html",
        {
            "purpose": purpose.value,
            "token": token,
            "state": found.state.value,
            "person": found.user if usable else None,
            "expired_on": found.link.expires_at if found.link is not None else None,
            "links_allowed": links_allowed,
            "errors": errors or {},
        },
        status_code=status or (200 if usable else 400),
        headers=NO_STORE,
    )


@router.get("/password/reset/{token}", response_class=HTMLResponse)
def reset_page(request: Request, session: DbSession, token: Token) -> Response:
    purpose = AccountLinkPurpose.RESET
    return _link_page(request, purpose, token, account_links.lookup(session, token, purpose))


def _links_allowed(
    session: Session, settings: Settings, purpose: AccountLinkPurpose, found: account_links.Lookup
) -> bool:
    """Whether an invitation's page offers to sign in without a password."""
    return (
        purpose is AccountLinkPurpose.INVITATION
        and found.user is not None
        and signin_links.is_eligible(session, settings, found.user)
    )


def _choose_password(
    request: Request,
    session: Session,
    settings: Settings,
    purpose: AccountLinkPurpose,
    token: str,
    use: Callable[[], User],
) -> Response:
    """Run ``use`` (set the password with the link); on success open a session, otherwise show
    the link's page again: with the reasons next to the fields, or saying why it is over."""
    try:
        user = use()
    except LinkUnusable:
        return _link_page(request, purpose, token, account_links.lookup(session, token, purpose))
    except InvalidInput as exc:
        found = account_links.lookup(session, token, purpose)
        errors = form_errors(request.state.locale, exc)
        allowed = _links_allowed(session, settings, purpose, found)
        return _link_page(
            request, purpose, token, found, links_allowed=allowed, errors=errors, status=422
        )
    return signed_in(request, session, settings, user, "/", "password")


@router.post("/password/reset/{token}", response_class=HTMLResponse)
def reset_password(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    token: Token,
    password: Password,
    confirm: Password = "",
) -> Response:
    ip = client_ip(request)
    return _choose_password(
        request,
        session,
        settings,
        AccountLinkPurpose.RESET,
        token,
        lambda: password_reset.reset(session, settings, token, password, confirm, ip=ip),
    )


@router.get("/invitation/renewed", response_class=HTMLResponse)
def invitation_renewed(request: Request, settings: AppSettings) -> Response:
    return templates.TemplateResponse(
        request, "auth/invitation_renewed.html", {"days": settings.invitation_days}
    )


@router.get("/invitation/{token}", response_class=HTMLResponse)
def invitation_page(
    request: Request, session: DbSession, settings: AppSettings, token: Token
) -> Response:
    purpose = AccountLinkPurpose.INVITATION
    found = account_links.lookup(session, token, purpose)
    allowed = _links_allowed(session, settings, purpose, found)
    return _link_page(request, purpose, token, found, links_allowed=allowed)


@router.post("/invitation/{token}", response_class=HTMLResponse)
def accept_invitation(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    token: Token,
    password: Password,
    confirm: Password = "",
) -> Response:
    ip = client_ip(request)
    return _choose_password(
        request,
        session,
        settings,
        AccountLinkPurpose.INVITATION,
        token,
        lambda: invitations.accept(session, settings, token, password, confirm, ip=ip),
    )


@router.post("/invitation/{token}/link", response_class=HTMLResponse)
def accept_invitation_by_link(
    request: Request, session: DbSession, settings: AppSettings, token: Token
) -> Response:
    """Sign in with the invitation, without choosing a password (sign-in links allowed)."""
    purpose = AccountLinkPurpose.INVITATION
    try:
        user = invitations.accept_by_link(session, settings, token, ip=client_ip(request))
    except LinkUnusable:
        return _link_page(request, purpose, token, account_links.lookup(session, token, purpose))
    return signed_in(request, session, settings, user, "/", "link")


@router.post("/invitation/{token}/renew", response_class=HTMLResponse)
def renew_invitation(
    request: Request, session: DbSession, settings: AppSettings, token: Token
) -> Response:
    """A new invitation for the holder of an expired one, to the same address."""
    try:
        state = invitations.renew(session, settings, token, ip=client_ip(request))
    except TooManyRequests as exc:
        return _throttled(request, exc, settings)
    if state is not LinkState.EXPIRED:
        purpose = AccountLinkPurpose.INVITATION
        return _link_page(request, purpose, token, account_links.lookup(session, token, purpose))
    return RedirectResponse("/invitation/renewed", status_code=303)
