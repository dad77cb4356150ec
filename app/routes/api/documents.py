"""GET /api/v1/apprenticeships/{id}/livret.pdf."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.routes.api.deps import ApiUser
from app.routes.documents import PDF_RESPONSES, livret_response
from app.schemas.problem import problem_responses
from app.web.deps import AppSettings, DbSession
from app.web.params import PathId

router = APIRouter(tags=["documents"])


@router.get(
    "/apprenticeships/{apprenticeship_id}/livret.pdf",
    response_class=Response,
    responses={**PDF_RESPONSES, **problem_responses(401, 404, 422)},
)
def get_livret_pdf(
    apprenticeship_id: PathId,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: ApiUser,
) -> Response:
    """The livret as PDF, in the token owner's language (parties and admins; others 404)."""
    return livret_response(session, settings, user, apprenticeship_id, request.state.locale)
