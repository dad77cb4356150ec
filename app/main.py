"""Application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.db import make_engine, make_session_factory
from app.errors import install_error_handlers, problem_response
from app.i18n import N_, translate
from app.logging_setup import configure_logging
from app.routes import (
    accounts,
    admin,
    api,
    auth,
    dashboard,
    degree,
    docs,
    documents,
    health,
    home,
    journal,
    portfolio,
    referentials,
    reviews,
)
from app.schemas.problem import document_problems
from app.services.errors import ContentTooLarge
from app.services.notifications import sender as mail_sender
from app.web.csrf import csrf_cookie_name, csrf_protect, csrf_seed, csrf_token_for
from app.web.deps import request_locale

log = logging.getLogger("livret")

MAX_REQUEST_BYTES = 12 * 1024 * 1024  # a 10 MB attachment plus the form around it
TOO_LARGE_MESSAGE = N_("The request is too large.")
STATIC_PREFIX = "/static/"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes``: at once when Content-Length declares more,
    and, for bodies that declare no size (chunked), as soon as what arrives passes the limit.
    The reader of the body (the CSRF form check, the upload parser, a JSON body) then gets
    :class:`ContentTooLarge`, which answers 413 like any domain error."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            request = Request(scope)
            request.state.locale = request_locale(request)
            response = problem_response(
                request, 413, translate(request.state.locale, TOO_LARGE_MESSAGE)
            )
            await response(scope, receive, send)
            return
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    log.warning(
                        "Request body over %s bytes refused: %s %s",
                        self.max_bytes,
                        scope.get("method"),
                        scope.get("path"),
                    )
                    raise ContentTooLarge(TOO_LARGE_MESSAGE)
            return message

        await self.app(scope, capped_receive, send)


def tune_garbage_collector() -> None:
    """Long-lived start-up objects (modules, metadata, templates) leave the collector's view,
    and young generations are collected less often. Full collections then stay short, which
    keeps the slowest requests of large pages (a 200-apprentice dashboard) near the median."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 50)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        # Services that queue mail read base_url and friends from the session.
        app.state.session_factory.configure(info={"settings": settings})
        tune_garbage_collector()
        log.info(
            "Livret started (%s, database %s)",
            settings.environment,
            engine.url.render_as_string(hide_password=True),
        )
        sender = None
        if settings.mail_sender_interval_seconds:
            sender = asyncio.create_task(
                mail_sender.run_sender(app.state.session_factory, settings)
            )
        try:
            yield
        finally:
            if sender is not None:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender
            engine.dispose()

    app = FastAPI(
        title="Livret",
        version="0.1.0",
        description="Digital apprenticeship portfolio — API",
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect)],
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings

    app.add_middleware(BodySizeLimit, max_bytes=MAX_REQUEST_BYTES)

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.locale = request_locale(request)
        seed = csrf_seed(request)
        new_csrf_cookie = None
        if seed is None:
            seed = new_csrf_cookie = secrets.token_urlsafe(32)
        request.state.csrf_token = csrf_token_for(settings.effective_secret_key, seed)
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith(STATIC_PREFIX):
            # Pages and API answers carry personal data: no cache keeps them (a shared
            # computer's back button, a proxy). Static files stay cacheable.
            response.headers.setdefault("Cache-Control", "no-store")
        if new_csrf_cookie:
            response.set_cookie(
                csrf_cookie_name(settings),
                new_csrf_cookie,
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies,
            )
        return response

    install_error_handlers(app)
    document_problems(app)
    static_dir = Path(__file__).parent / "static"
    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    for module in (
        health,
        auth,
        accounts,
        home,
        portfolio,
        journal,
        degree,
        reviews,
        dashboard,
        documents,
        referentials,
        api,
        docs,
        admin,
    ):
        # The OpenAPI document describes the JSON API and the health check. Pages, forms,
        # fragments and browser downloads answer HTML, errors included: they are not the API.
        app.include_router(module.router, include_in_schema=module in (api, health))
    return app
