"""POST /api/v1/tokens: exchange email and password for a bearer token."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.routes.api.deps import ApiUser
from app.schemas.problem import problem_responses
from app.schemas.token import TokenCreate, TokenRead
from app.services.errors import InvalidInput
from app.services.people import tokens as token_service
from app.web.deps import AppSettings, DbSession, client_ip

router = APIRouter(tags=["tokens"])


@router.post(
    "/tokens",
    response_model=TokenRead,
    status_code=201,
    responses=problem_responses(
        401,
        403,
        413,
        422,
        429,
        notes={
            401: "Wrong email or password, or an inactive account.",
            403: "Sent with a browser session cookie but without its CSRF token.",
        },
    ),
)
def create_token(
    body: TokenCreate, request: Request, session: DbSession, settings: AppSettings
) -> TokenRead:
    raw, token = token_service.issue_token(
        session,
        settings,
        email=body.email,
        password=body.password,
        name=body.name,
        ip=client_ip(request),
    )
    return TokenRead(token=raw, expires_at=token.expires_at)


@router.delete(
    "/tokens/current",
    status_code=204,
    responses=problem_responses(
        401,
        403,
        422,
        notes={
            403: "Sent with a browser session cookie but without its CSRF token.",
            422: "The request was not made with an API token.",
        },
    ),
)
def revoke_current_token(request: Request, session: DbSession, user: ApiUser) -> Response:
    token = getattr(request.state, "api_token", None)
    if token is None:
        raise InvalidInput("This request was not made with an API token.")
    token_service.revoke_token(session, token, user, client_ip(request))
    return Response(status_code=204)
