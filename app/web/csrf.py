"""CSRF protection: a token bound to the browser (its session, or a cookie of its own), sent
as a form field or as a header on htmx requests."""

from __future__ import annotations

import hashlib
import hmac
import logging

from fastapi import Request
from starlette.exceptions import HTTPException

from app.config import Settings
from app.services.errors import Forbidden

log = logging.getLogger("livret.web")

SESSION_COOKIE = "livret_session"
CSRF_COOKIE = "livret_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfError(Forbidden):
    pass


def csrf_token_for(secret: str, seed: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{seed}".encode(), hashlib.sha256).hexdigest()


def _secure_name(settings: Settings, name: str) -> str:
    """With secure cookies (production) the ``__Host-`` prefix makes the browser refuse the
    cookie unless it is Secure, for the whole site and from this host only."""
    return f"__Host-{name}" if settings.secure_cookies else name


def session_cookie_name(settings: Settings) -> str:
    return _secure_name(settings, SESSION_COOKIE)


def csrf_cookie_name(settings: Settings) -> str:
    return _secure_name(settings, CSRF_COOKIE)


def session_cookie(request: Request) -> str | None:
    """The browser's session token, if it sent one."""
    return request.cookies.get(session_cookie_name(request.app.state.settings))


def csrf_seed(request: Request) -> str | None:
    settings: Settings = request.app.state.settings
    return session_cookie(request) or request.cookies.get(csrf_cookie_name(settings))


async def csrf_protect(request: Request) -> None:
    """Refuse state-changing requests that lack the token bound to this browser.

    API calls without a session cookie carry no ambient credential, so they need none."""
    if request.method in SAFE_METHODS:
        return
    if request.url.path.startswith("/api/") and not session_cookie(request):
        return  # no ambient credential: bearer-token and token-issuing calls need no token
    seed = csrf_seed(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        try:
            form = await request.form()
        except HTTPException:  # Starlette's 400 for a malformed form: it carries no token
            pass
        else:
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    settings: Settings = request.app.state.settings
    expected = csrf_token_for(settings.effective_secret_key, seed) if seed else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        log.warning("CSRF check failed for %s %s", request.method, request.url.path)
        raise CsrfError("The form has expired or did not come from Livret. Reload and retry.")
