"""Error responses: problem+json for the API, friendly pages (or fragments) for people."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.i18n import N_, translate
from app.schemas.problem import PROBLEM_MEDIA_TYPE, Problem, ProblemFieldError
from app.services.errors import DomainError, Unauthenticated
from app.services.validation import field_messages
from app.web.deps import request_locale
from app.web.htmx import is_htmx, wants_json
from app.web.templating import templates
from app.web.validation_messages import message_of

log = logging.getLogger("livret.errors")

STATUS_TITLES = {
    400: N_("Bad request"),
    401: N_("Authentication required"),
    403: N_("Access denied"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    422: N_("Invalid input"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
    503: N_("Service unavailable"),
}
STATUS_MESSAGES = {
    404: N_("This page does not exist, or you are not allowed to see it."),
    405: N_("This action is not available here."),
    500: N_("An unexpected error occurred. It has been logged; please try again later."),
}


def _locale(request: Request) -> str:
    locale = getattr(request.state, "locale", None)
    return locale or request_locale(request)


def problem_response(
    request: Request,
    status: int,
    detail: str,
    *,
    errors: list[ProblemFieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """An error answer: a :class:`Problem` body for the API, a page or fragment for people."""
    locale = _locale(request)
    request.state.locale = locale
    title = translate(locale, STATUS_TITLES.get(status, "Error"))
    if wants_json(request):
        problem = Problem(
            type="about:blank", title=title, status=status, detail=detail, errors=errors or []
        )
        return JSONResponse(
            problem.body(), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
        )
    template = "partials/error.html" if is_htmx(request) else "error.html"
    response = templates.TemplateResponse(
        request,
        template,
        {"status": status, "title": title, "detail": detail, "errors": errors or []},
        status_code=status,
        headers=headers,
    )
    if is_htmx(request):
        # Let htmx swap error fragments into the page's message area instead of the target.
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, Unauthenticated) and not wants_json(request):
            if is_htmx(request):
                return Response(status_code=401, headers={"HX-Redirect": "/login"})
            target = request.url.path
            if request.url.query:
                target += "?" + request.url.query
            return RedirectResponse(f"/login?next={target}", status_code=303)
        locale = _locale(request)
        detail = translate(locale, exc.message, **exc.params)
        errors = [
            ProblemFieldError(
                field=name,
                code=exc.field_errors.get(name, "invalid"),
                message=translate(locale, message, **params),
            )
            for name, (message, params) in field_messages(exc).items()
        ]
        log.info("%s %s -> %s: %s", request.method, request.url.path, exc.status_code, exc.message)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return problem_response(request, exc.status_code, detail, errors=errors, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        locale = _locale(request)
        errors = [
            ProblemFieldError(
                field=".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                code=str(err.get("type", "invalid")),
                message=message_of(err, locale),
            )
            for err in exc.errors()
        ]
        log.info("%s %s -> 422: %s", request.method, request.url.path, errors)
        return problem_response(
            request, 422, translate(locale, "Some fields are missing or invalid."), errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI answers "400 There was an error parsing the body" to whatever fails while
        # it reads a body, raised from that failure. The body cap's ContentTooLarge (a
        # chunked body past the limit) is answered as itself, 413; a body json cannot read
        # (not UTF-8, nested too deep) as FastAPI answers other malformed JSON, 422.
        cause = exc.__cause__ if exc.status_code == 400 else None
        if isinstance(cause, DomainError):
            return await _domain(request, cause)
        if isinstance(cause, ValueError | RecursionError):
            unreadable = {"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}
            return await _validation(request, RequestValidationError([unreadable]))
        locale = _locale(request)
        message = STATUS_MESSAGES.get(exc.status_code)
        if message:
            detail = translate(locale, message)
        elif isinstance(exc.detail, str):
            detail = exc.detail
        else:
            detail = translate(locale, STATUS_TITLES.get(exc.status_code, "Error"))
        return problem_response(
            request, exc.status_code, detail, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("Unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, translate(_locale(request), STATUS_MESSAGES[500]))
