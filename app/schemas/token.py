"""API token schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.schemas.common import ReadModel, WriteModel


class TokenCreate(WriteModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(default="", max_length=100)


class TokenRead(ReadModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 - the scheme name, not a secret
    expires_at: datetime
