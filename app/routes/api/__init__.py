"""The JSON API, version 1."""

from __future__ import annotations

from fastapi import APIRouter

from app.routes.api import (
    apprenticeships,
    certifications,
    deactivation,
    degree,
    documents,
    journal,
    people,
    progress,
    reviews,
    tokens,
)

router = APIRouter(prefix="/api/v1")
for module in (
    tokens,
    people,
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
