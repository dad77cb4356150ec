"""The referential browser: certifications, blocks, competencies, requirements."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from app.schemas.common import SafeStr
from app.services.errors import NotFound
from app.services.referentials import catalog as referential_service
from app.web.deps import CurrentUser, DbSession
from app.web.templating import templates

router = APIRouter(prefix="/referentials", tags=["pages"])

RncpCode = Annotated[SafeStr, Path(pattern=r"^[A-Za-z0-9]{1,20}$")]


@router.get("", response_class=HTMLResponse)
def certification_list(request: Request, session: DbSession, user: CurrentUser) -> Response:
    certifications = referential_service.list_certifications(session)
    return templates.TemplateResponse(
        request, "referentials/list.html", {"certifications": certifications}
    )


@router.get("/{rncp_code}", response_class=HTMLResponse)
def certification_detail(
    request: Request, session: DbSession, user: CurrentUser, rncp_code: RncpCode
) -> Response:
    cert = referential_service.get_certification(session, rncp_code)
    return templates.TemplateResponse(request, "referentials/certification.html", {"cert": cert})


@router.get("/{rncp_code}/blocks/{block_code}", response_class=HTMLResponse)
def block_detail(
    request: Request,
    session: DbSession,
    user: CurrentUser,
    rncp_code: RncpCode,
    block_code: Annotated[SafeStr, Path(pattern=r"^[A-Za-z0-9]{1,30}$")],
) -> Response:
    cert = referential_service.get_certification(session, rncp_code)
    block = next((b for b in cert.blocks if b.code == block_code.upper()), None)
    if block is None:
        raise NotFound("No such block.")
    return templates.TemplateResponse(
        request, "referentials/block.html", {"cert": cert, "block": block}
    )
