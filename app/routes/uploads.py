"""Multipart uploads read with a size cap, shared by the API and the pages."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from app.i18n import N_
from app.services.documents import storage
from app.services.errors import ContentTooLarge, InvalidInput

# The whole multipart body may exceed the file limit by this much (part headers, boundaries,
# a CSRF field); the file itself is measured exactly by the service.
UPLOAD_OVERHEAD_BYTES = 256 * 1024
UPLOAD_BODY_LIMIT = storage.MAX_ATTACHMENT_BYTES + UPLOAD_OVERHEAD_BYTES

# --- Upload parsing ---------------------------------------------------------------------------


def _too_large() -> ContentTooLarge:
    return ContentTooLarge(storage.TOO_LARGE, limit=storage.MAX_ATTACHMENT_MB)


async def _capped_body(request: Request) -> AsyncGenerator[bytes, None]:
    """The request body, refused as soon as it grows past the limit (whatever Content-Length
    claimed, and for chunked uploads that declare none)."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > UPLOAD_BODY_LIMIT:
            raise _too_large()
        yield chunk


async def uploaded_file(request: Request) -> AsyncIterator[UploadFile]:
    """The multipart field ``file``, read with a size cap. Starlette spools it to a temporary
    file (memory up to 1 MB, then disk), closed when the request ends."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise InvalidInput(
            N_('Send the file as multipart/form-data, in a field named "file".'),
            field_errors={"file": "required"},
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > UPLOAD_BODY_LIMIT:
        raise _too_large()  # refused before reading a byte
    try:
        parser = MultiPartParser(request.headers, _capped_body(request), max_files=1, max_fields=10)
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidInput(
            N_("The upload could not be read."), field_errors={"file": "invalid"}
        ) from exc
    except RuntimeError:
        # The CSRF check already read the form (a browser sending its token as a form field).
        form = await request.form()
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(
                N_('Send the file as multipart/form-data, in a field named "file".'),
                field_errors={"file": "required"},
            )
        yield upload
    finally:
        await form.close()


Upload = Annotated[UploadFile, Depends(uploaded_file)]
