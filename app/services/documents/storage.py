"""Evidence files on disk: type checked by content, stored under a server-generated name.

Files live in ``settings.attachments_dir`` named by a random uuid4 hex; the original name is
kept, sanitised, for display only. The type is decided by the file's bytes (magic numbers, and
for zip-based office documents the zip's own table of contents), never by the client's name or
Content-Type.

Files and the database transaction:

* An upload is streamed to a hidden temporary file in the same directory (size capped while
  reading), checked, then renamed to its final name, so a final name always holds a whole file.
  If anything fails before the row is flushed, the file is removed at once; if the transaction
  rolls back later, a session hook removes it.
* A deleted attachment's file is removed only after the transaction commits, so a failed
  commit never leaves a row without its file.
* What can still be left behind is an unreferenced file (never a row without its file): if the
  process dies between the rename and the commit, or between the commit and the removal, or
  mid-upload (a ``.upload-*.part`` file). :func:`sweep_unreferenced_files` (``livret
  attachments sweep``) compares the directory with the table and removes them.

This module imports no domain module: the attachment rules (who may attach what, where) are in
:mod:`app.services.documents.attachments`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import unicodedata
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from app.i18n import N_
from app.models import Attachment
from app.services.errors import ContentTooLarge, InvalidInput, NotFound, ServiceUnavailable

log = logging.getLogger("livret.attachments")

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENT_MB = MAX_ATTACHMENT_BYTES // (1024 * 1024)
CHUNK_BYTES = 64 * 1024
FILENAME_MAX = 255
TOO_LARGE = N_("The file is larger than the {limit} MB limit.")
UNWRITABLE = N_("Files cannot be stored right now. Nothing was saved; try again later.")

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"

# Zip-based documents: what their parts may expand to, all together, once opened.
ZIP_BASED = frozenset({DOCX, XLSX, PPTX, ODT})
MAX_EXPANDED_BYTES = 100 * 1024 * 1024

# Accepted types and the file extensions that go with them (the first one is the default).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF: ("pdf",),
    PNG: ("png",),
    JPEG: ("jpg", "jpeg"),
    DOCX: ("docx",),
    XLSX: ("xlsx",),
    PPTX: ("pptx",),
    ODT: ("odt",),
}
# OOXML: the folder of the main part, and the type [Content_Types].xml must declare for the
# main part (macro-enabled and template variants declare other types and are refused).
_OOXML = tuple(
    (folder, content_type, f"{content_type}.main+xml".encode())
    for folder, content_type in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
)
_ZIP_MAX_ENTRIES = 10_000
_ZIP_MANIFEST_MAX = 512 * 1024
# What a malformed, encrypted or exotic zip can raise while we read its directory.
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError)
_STORED_NAME = re.compile(r"[0-9a-f]{32}")


# --- Content sniffing -------------------------------------------------------------------------


def sniff_content_type(fh: BinaryIO) -> str | None:
    """The accepted content type the bytes of ``fh`` (seekable) really are, or None."""
    fh.seek(0)
    head = fh.read(16)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(fh)
    return None


def _sniff_zip(fh: BinaryIO) -> str | None:
    """Decide between OOXML and ODT from the zip's directory; only tiny entries are read, and
    through a bounded read, so a zip bomb costs nothing."""
    try:
        fh.seek(0)
        with zipfile.ZipFile(fh) as archive:
            infos = archive.infolist()
            if len(infos) > _ZIP_MAX_ENTRIES:
                return None
            names = {info.filename for info in infos}
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    mimetype = entry.read(100).strip()
                return ODT if mimetype == ODT.encode() else None
            if "[Content_Types].xml" not in names:
                return None
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return None  # macro-enabled documents are refused
            candidates = [
                (content_type, main_type)
                for folder, content_type, main_type in _OOXML
                if any(name.startswith(folder) for name in names)
            ]
            if len(candidates) != 1:
                return None
            content_type, main_type = candidates[0]
            with archive.open("[Content_Types].xml") as entry:
                manifest = entry.read(_ZIP_MANIFEST_MAX)
            return content_type if main_type in manifest else None
    except _ZIP_ERRORS:
        return None


def check_zip_expansion(fh: BinaryIO, limit: int) -> None:
    """Refuse a zip-based document whose parts expand beyond ``limit`` bytes (a "zip bomb":
    a few hundred kB that open into gigabytes in whoever reads them next). The parts are read
    through, within their declared sizes, so a part that lies about its size fails its CRC."""
    try:
        fh.seek(0)
        with zipfile.ZipFile(fh) as archive:
            infos = archive.infolist()
            if sum(info.file_size for info in infos) > limit:
                raise _expands_too_much(limit)
            for info in infos:
                with archive.open(info) as entry:
                    while entry.read(CHUNK_BYTES):
                        pass
    except _ZIP_ERRORS as exc:
        raise InvalidInput(
            N_("This document is damaged: its parts do not match their description."),
            field_errors={"file": "damaged"},
        ) from exc


def _expands_too_much(limit: int) -> InvalidInput:
    return InvalidInput(
        N_(
            "This document expands to more than {limit} MB once opened, which documents of "
            "this kind never need: it is refused."
        ),
        field_errors={"file": "expands"},
        limit=limit // (1024 * 1024),
    )


# --- Names ------------------------------------------------------------------------------------


def display_filename(raw: str | None, content_type: str) -> str:
    """A safe display name: no path, no control or bidi characters, at most 255 characters,
    and an extension that matches the detected type (``evil.exe`` holding a PNG becomes
    ``evil.exe.png``)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(name.split()).strip(" .")
    stem, dot, extension = name.rpartition(".")
    allowed = EXTENSIONS[content_type]
    if not dot or extension.lower() not in allowed:
        stem, extension = name, allowed[0]
    stem = stem.strip(" .") or "attachment"
    return f"{stem[: FILENAME_MAX - len(extension) - 1]}.{extension}"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the exact name in RFC 5987 ``filename*``."""
    fallback = "".join(
        ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\%;' else "_" for ch in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# --- Storage ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    path: Path
    size_bytes: int
    sha256: str
    content_type: str


def store_upload(stream: BinaryIO, directory: Path) -> StoredFile:
    """Copy ``stream`` in chunks to a temporary file (stopping past the size limit), check its
    type, then rename it into place. Nothing is left on disk when this raises."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".part")
    except OSError as exc:
        log.error("Cannot write evidence files to %s: %s", directory, exc)
        raise ServiceUnavailable(UNWRITABLE) from exc
    tmp_path = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "w+b") as out:
            while chunk := stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_ATTACHMENT_BYTES:
                    raise ContentTooLarge(TOO_LARGE, limit=MAX_ATTACHMENT_MB)
                digest.update(chunk)
                out.write(chunk)
            if size == 0:
                raise InvalidInput(N_("The file is empty."), field_errors={"file": "empty"})
            content_type = sniff_content_type(out)
            if content_type is None:
                raise InvalidInput(
                    N_(
                        "This type of file is not accepted. Send a PDF, PNG or JPEG file, or a "
                        "Word, Excel, PowerPoint or OpenDocument text document."
                    ),
                    field_errors={"file": "type"},
                )
            if content_type in ZIP_BASED:
                check_zip_expansion(out, MAX_EXPANDED_BYTES)
            out.flush()
            os.fsync(out.fileno())
        stored_name = uuid.uuid4().hex
        final_path = directory / stored_name
        os.replace(tmp_path, final_path)
    except OSError as exc:  # the disk is full, or the folder went away
        tmp_path.unlink(missing_ok=True)
        log.error("Cannot write evidence files to %s: %s", directory, exc)
        raise ServiceUnavailable(UNWRITABLE) from exc
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return StoredFile(stored_name, final_path, size, digest.hexdigest(), content_type)


def stored_path(directory: Path, stored_name: str) -> Path:
    if not _STORED_NAME.fullmatch(stored_name):  # never trust a name enough to join it blindly
        raise NotFound("No such attachment.")
    return directory / stored_name


# Files to act on when the session's transaction ends, kept in ``session.info``.
_WRITTEN = "livret.attachments.written"
_DOOMED = "livret.attachments.doomed"


def _unlink_all(paths: Sequence[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.exception("Could not remove attachment file %s", path)


def _after_commit(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    _unlink_all(session.info.pop(_DOOMED, []))


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is not None:
        return  # a nested savepoint: the outer transaction decides
    session.info.pop(_DOOMED, None)
    _unlink_all(session.info.pop(_WRITTEN, []))


def _watch(session: Session) -> None:
    if not event.contains(session, "after_commit", _after_commit):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_soft_rollback)


def remove_file_on_rollback(session: Session, path: Path) -> None:
    _watch(session)
    session.info.setdefault(_WRITTEN, []).append(path)


def remove_files_after_commit(
    session: Session, directory: Path, stored_names: Sequence[str]
) -> None:
    _watch(session)
    session.info.setdefault(_DOOMED, []).extend(
        stored_path(directory, name) for name in stored_names
    )


# --- Sweeping unreferenced files --------------------------------------------------------------

SWEEP_BATCH = 500
SWEEP_MIN_AGE = timedelta(hours=24)


@dataclass(frozen=True)
class SweepReport:
    orphans: tuple[Path, ...]  # unreferenced and old enough: removed, or to remove
    removed: int
    recent: int  # unreferenced but younger than the minimum age: left alone
    referenced: int


def sweep_unreferenced_files(
    session: Session,
    directory: Path,
    *,
    now: datetime,
    min_age: timedelta = SWEEP_MIN_AGE,
    delete: bool = False,
) -> SweepReport:
    """Files in ``directory`` that no attachment row names (see the module's note on what a
    crash can leave behind): stored files and ``.upload-*.part`` leftovers. Only files older
    than ``min_age`` count, so an upload or a transaction in progress is never touched.
    Without ``delete`` nothing is removed: the report says what would be."""
    if not directory.is_dir():
        return SweepReport((), 0, 0, 0)
    candidates = sorted(
        path
        for path in directory.iterdir()
        if path.is_file() and (_STORED_NAME.fullmatch(path.name) or _is_upload_leftover(path.name))
    )
    stored = [path for path in candidates if _STORED_NAME.fullmatch(path.name)]
    known: set[str] = set()
    for start in range(0, len(stored), SWEEP_BATCH):
        names = [path.name for path in stored[start : start + SWEEP_BATCH]]
        known.update(
            session.scalars(select(Attachment.stored_name).where(Attachment.stored_name.in_(names)))
        )
    cutoff = (now - min_age).timestamp()
    orphans, recent = [], 0
    for path in candidates:
        if path.name in known:
            continue
        if path.stat().st_mtime > cutoff:
            recent += 1
        else:
            orphans.append(path)
    removed = 0
    if delete:
        for path in orphans:
            path.unlink(missing_ok=True)
            removed += 1
        if removed:
            log.info("Removed %s unreferenced attachment files from %s", removed, directory)
    return SweepReport(tuple(orphans), removed, recent, len(known))


def _is_upload_leftover(name: str) -> bool:
    return name.startswith(".upload-") and name.endswith(".part")
