"""The JSON API, version 1."""

from __future__ import annotations

from fastapi import APIRouter

from app.routes.api import (
    apprenticeships,
    certifications,
    deactivation,
    degree,
    documents,
    imports,
    invitations,
    journal,
    people,
    progress,
    reviews,
    school,
    tokens,
)

router = APIRouter(prefix="/api/v1")
for module in (
    tokens,
    people,
    invitations,
    school,
    imports,
    deactivation,
    certifications,
    apprenticeships,
    journal,
    degree,
    reviews,
    progress,
    documents,
):
    router.include_router(module.router)
