"""Authentication for the JSON API: a bearer token, or the browser's session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.models import User
from app.services.errors import Unauthenticated
from app.services.people import tokens as token_service
from app.web.deps import AppSettings, DbSession, optional_user


def api_user(request: Request, session: DbSession, settings: AppSettings) -> User:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = token_service.resolve_token(session, header[7:].strip())
        if token is None:
            raise Unauthenticated("The API token is invalid, expired or revoked.")
        request.state.api_token = token
        request.state.user = token.user
        request.state.locale = token.user.locale
        return token.user
    user = optional_user(request, session, settings)
    if user is None:
        raise Unauthenticated("Please sign in to continue.")
    return user


ApiUser = Annotated[User, Depends(api_user)]
