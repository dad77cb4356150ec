"""Evidence attachments: content sniffing, size cap, storage, download headers, access."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import translate
from app.models import Attachment, AuditEvent, WorkSituation
from app.services.degree_conditions import evidence as degree
from app.services.documents import attachments, storage
from app.services.documents.storage import (
    DOCX,
    JPEG,
    MAX_ATTACHMENT_BYTES,
    ODT,
    PDF,
    PNG,
    PPTX,
    XLSX,
    content_disposition,
    display_filename,
    sniff_content_type,
    store_upload,
)
from app.services.errors import ContentTooLarge, InvalidInput, NotFound
from app.services.journal import situations as journal
from tests.helpers import (
    Personas,
    bearer,
    count_rows,
    csrf_for,
    jpeg_bytes,
    login_as,
    pdf_bytes,
    png_bytes,
)
from tests.mailbox import app_with

API = "/api/v1"
MB = 1024 * 1024


# --- Real minimal files -----------------------------------------------------------------------


def _zip(entries: list[tuple[str, bytes]], *, stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(entries):
            compress = zipfile.ZIP_STORED if stored_first and index == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compress)
    return buffer.getvalue()


def _content_types(part: str, main_type: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{main_type}"/></Types>'
    ).encode()


def ooxml_bytes(part: str, main_type: str, *extra: tuple[str, bytes]) -> bytes:
    return _zip(
        [
            ("[Content_Types].xml", _content_types(part, main_type)),
            ("_rels/.rels", b"<Relationships/>"),
            (part, b"<document/>"),
            *extra,
        ]
    )


def docx_bytes() -> bytes:
    return ooxml_bytes("word/document.xml", f"{DOCX}.main+xml")


def odt_bytes(mimetype: str = ODT) -> bytes:
    return _zip(
        [
            ("mimetype", mimetype.encode()),
            ("content.xml", b"<office:document-content/>"),
            ("META-INF/manifest.xml", b"<manifest:manifest/>"),
        ],
        stored_first=True,
    )


GOOD_FILES = {
    PDF: pdf_bytes,
    PNG: png_bytes,
    JPEG: jpeg_bytes,
    DOCX: docx_bytes,
    XLSX: lambda: ooxml_bytes("xl/workbook.xml", f"{XLSX}.main+xml"),
    PPTX: lambda: ooxml_bytes("ppt/presentation.xml", f"{PPTX}.main+xml"),
    ODT: odt_bytes,
}


@pytest.mark.parametrize("content_type", sorted(GOOD_FILES))
def test_sniffs_real_minimal_files(content_type: str) -> None:
    assert sniff_content_type(io.BytesIO(GOOD_FILES[content_type]())) == content_type


IMPOSTORS = {
    "windows executable": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64,
    "plain text": b"Just some text, not a PDF at all.\n",
    "html": b"<!doctype html><script>alert(1)</script>",
    "pdf magic not at the start": b" %PDF-1.4\n",
    "png signature without IHDR": b"\x89PNG\r\n\x1a\n" + b"\x00" * 16,
    "gif": b"GIF89a\x01\x00\x01\x00",
    "plain zip": _zip([("notes.txt", b"hello")]),
    "zip with word/ but no [Content_Types].xml": _zip([("word/document.xml", b"<d/>")]),
    "macro-enabled docm": ooxml_bytes(
        "word/document.xml", f"{DOCX}.main+xml", ("word/vbaProject.bin", b"\x00")
    ),
    "docm main type": ooxml_bytes(
        "word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"
    ),
    "dotx template": ooxml_bytes(
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    ),
    "word and excel at once": ooxml_bytes(
        "word/document.xml", f"{DOCX}.main+xml", ("xl/workbook.xml", b"<w/>")
    ),
    "ods spreadsheet": odt_bytes("application/vnd.oasis.opendocument.spreadsheet"),
    "truncated zip": b"PK\x03\x04" + b"\x00" * 40,
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(IMPOSTORS))
def test_refuses_what_is_not_an_accepted_type(name: str) -> None:
    assert sniff_content_type(io.BytesIO(IMPOSTORS[name])) is None


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        ("report.pdf", PDF, "report.pdf"),
        ("Rapport d'été.PDF", PDF, "Rapport d'été.PDF"),
        ("photo.jpeg", JPEG, "photo.jpeg"),
        ("photo.jpg", JPEG, "photo.jpg"),
        ("../../etc/passwd", PDF, "passwd.pdf"),
        ("C:\\Users\\alice\\cv.docx", DOCX, "cv.docx"),
        ("evil.exe", PNG, "evil.exe.png"),
        ("invoice\u202efdp.exe", PDF, "invoicefdp.exe.pdf"),  # bidi override removed
        ("bad\x00name\r\n.pdf", PDF, "badname.pdf"),
        ("   ", PDF, "attachment.pdf"),
        ("...", PDF, "attachment.pdf"),
        (None, ODT, "attachment.odt"),
    ],
)
def test_display_filename_is_sanitised(raw: str | None, content_type: str, expected: str) -> None:
    assert display_filename(raw, content_type) == expected


def test_display_filename_is_at_most_255_characters() -> None:
    name = display_filename("é" * 1000 + ".pdf", PDF)
    assert len(name) == 255
    assert name.endswith(".pdf")


def test_content_disposition_uses_rfc5987() -> None:
    assert content_disposition('Relevé "final".pdf') == (
        'attachment; filename="Relev_ _final_.pdf"; '
        "filename*=UTF-8''Relev%C3%A9%20%22final%22.pdf"
    )


# --- Storage ----------------------------------------------------------------------------------


class EndlessStream:
    """A client that would send forever; counts what was read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        chunk = b"%PDF-" if self.read_bytes == 0 else b"\x00" * max(size, 0)
        self.read_bytes += len(chunk)
        return chunk


def files_in(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def test_store_upload_stops_reading_past_the_limit(tmp_path: Path) -> None:
    stream = EndlessStream()
    with pytest.raises(ContentTooLarge):
        store_upload(stream, tmp_path)  # type: ignore[arg-type]
    assert stream.read_bytes <= MAX_ATTACHMENT_BYTES + storage.CHUNK_BYTES
    assert files_in(tmp_path) == set()


def test_store_upload_writes_a_uuid_named_file(tmp_path: Path) -> None:
    data = png_bytes()
    stored = store_upload(io.BytesIO(data), tmp_path)
    assert files_in(tmp_path) == {stored.stored_name}
    assert len(stored.stored_name) == 32
    int(stored.stored_name, 16)
    assert stored.path.read_bytes() == data
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert (stored.size_bytes, stored.content_type) == (len(data), PNG)


def _docx_with_a_part_of(megabytes: int) -> bytes:
    """A real docx whose one extra part is ``megabytes`` of zeros: a few hundred kB on disk."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml", _content_types("word/document.xml", f"{DOCX}.main+xml")
        )
        archive.writestr("word/document.xml", b"<document/>")
        with archive.open("word/media/filler.bin", "w") as entry:
            chunk = bytes(MB)
            for _ in range(megabytes):
                entry.write(chunk)
    return buffer.getvalue()


def test_a_document_expanding_past_the_limit_is_refused_with_a_clear_message(
    tmp_path: Path,
) -> None:
    data = _docx_with_a_part_of(storage.MAX_EXPANDED_BYTES // MB + 1)
    assert len(data) < MB  # small on disk: the size cap alone lets it through
    with pytest.raises(InvalidInput) as caught:
        store_upload(io.BytesIO(data), tmp_path)
    assert caught.value.field_errors == {"file": "expands"}
    assert "100 MB" in translate("en", caught.value.message, **caught.value.params)
    assert files_in(tmp_path) == set()


def test_a_document_expanding_within_the_limit_is_accepted(tmp_path: Path) -> None:
    stored = store_upload(io.BytesIO(_docx_with_a_part_of(2)), tmp_path)
    assert stored.content_type == DOCX


def test_an_unwritable_attachments_folder_answers_503_and_saves_nothing(
    connection: Connection, db: Session, settings: Settings, personas: Personas
) -> None:
    blocked = settings.data_dir / "not-a-folder"
    blocked.write_text("a file where the data folder should be")
    broken = settings.model_copy(update={"data_dir": blocked})
    situation = new_situation(db, personas)
    with TestClient(app_with(broken, connection)) as client:
        response = upload(
            client,
            bearer(db, personas.apprentice_a),
            f"{API}/work-situations/{situation.id}/attachments",
            pdf_bytes(),
        )
    assert response.status_code == 503
    assert response.json()["detail"].startswith("Les fichiers ne peuvent pas être enregistrés")
    assert count_rows(db, Attachment) == 0


# --- API helpers ------------------------------------------------------------------------------


def new_situation(db: Session, p: Personas) -> WorkSituation:
    return journal.create_situation(
        db,
        p.apprentice_a,
        p.apprenticeship_a.id,
        journal.SituationInput(
            title="Test bench commissioning",
            starts_on=date(2025, 10, 1),
            ends_on=date(2025, 10, 31),
            competency_codes=["RNCP39303BC02-C01"],
        ),
    )


def upload(
    client: TestClient,
    headers: dict[str, str],
    url: str,
    data: bytes,
    filename: str = "evidence.pdf",
    content_type: str = "application/pdf",
) -> Any:
    return client.post(url, files={"file": (filename, data, content_type)}, headers=headers)


@pytest.fixture
def situation(db: Session, personas: Personas) -> WorkSituation:
    return new_situation(db, personas)


# --- Upload, list, download, delete -----------------------------------------------------------


def test_upload_list_download_and_delete(
    client: TestClient,
    db: Session,
    settings: Settings,
    personas: Personas,
    situation: WorkSituation,
) -> None:
    p = personas
    apprentice = bearer(db, p.apprentice_a)
    data = pdf_bytes(1000)
    response = upload(
        client,
        apprentice,
        f"{API}/work-situations/{situation.id}/attachments",
        data,
        filename="Compte rendu d'essai é.pdf",
        content_type="text/plain",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == PDF  # detected, not what the client claimed
    assert body["filename"] == "Compte rendu d'essai é.pdf"
    assert body["size_bytes"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["url"] == f"{API}/attachments/{body['id']}"

    row = db.get(Attachment, body["id"])
    assert row is not None
    assert (settings.attachments_dir / row.stored_name).read_bytes() == data
    assert row.stored_name not in body["filename"]
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "attachment.create")).one()
    assert event.details["after"]["sha256"] == body["sha256"]
    assert event.actor_id == p.apprentice_a.id

    listing = client.get(f"{API}/work-situations/{situation.id}/attachments", headers=apprentice)
    assert [a["id"] for a in listing.json()] == [body["id"]]
    detail = client.get(f"{API}/work-situations/{situation.id}", headers=apprentice).json()
    assert [a["id"] for a in detail["attachments"]] == [body["id"]]

    for who in (p.apprentice_a, p.tutor_a, p.supervisor_a, p.admin):
        download = client.get(body["url"], headers=bearer(db, who))
        assert download.status_code == 200
        assert download.content == data
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-disposition"] == (
            'attachment; filename="Compte rendu d\'essai _.pdf"; '
            "filename*=UTF-8''Compte%20rendu%20d%27essai%20%C3%A9.pdf"
        )
        assert "no-store" in download.headers["cache-control"]

    deleted = client.delete(body["url"], headers=apprentice)
    assert deleted.status_code == 204
    assert not (settings.attachments_dir / row.stored_name).exists()
    assert client.get(body["url"], headers=apprentice).status_code == 404


@pytest.mark.parametrize("content_type", sorted(GOOD_FILES))
def test_every_accepted_type_uploads(
    client: TestClient, db: Session, personas: Personas, situation: WorkSituation, content_type: str
) -> None:
    response = upload(
        client,
        bearer(db, personas.apprentice_a),
        f"{API}/work-situations/{situation.id}/attachments",
        GOOD_FILES[content_type](),
        filename="evidence",
        content_type="application/octet-stream",
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == content_type
    assert response.json()["filename"] == "evidence." + storage.EXTENSIONS[content_type][0]


def test_upload_through_the_browser_session(
    client: TestClient,
    db: Session,
    settings: Settings,
    personas: Personas,
    situation: WorkSituation,
) -> None:
    login_as(client, db, settings, personas.apprentice_a)
    url = f"{API}/work-situations/{situation.id}/attachments"
    files = {"file": ("a.png", png_bytes(), "image/png")}
    assert client.post(url, files=files).status_code == 403  # no CSRF token
    with_header = client.post(
        url, files=files, headers={"X-CSRF-Token": csrf_for(client, settings)}
    )
    assert with_header.status_code == 201
    with_field = client.post(url, files=files, data={"csrf_token": csrf_for(client, settings)})
    assert with_field.status_code == 201


# --- Bad uploads write nothing ----------------------------------------------------------------


def _stored_state(db: Session, settings: Settings) -> tuple[int, int, set[str]]:
    """Attachment rows, audit events and files on disk, to compare before and after."""
    return (
        count_rows(db, Attachment),
        count_rows(db, AuditEvent),
        files_in(settings.attachments_dir),
    )


@pytest.fixture
def unchanged(db: Session, settings: Settings) -> Iterator[None]:
    """Asserts, after the test, that no attachment row, audit event or file appeared."""
    before = _stored_state(db, settings)
    yield
    after = _stored_state(db, settings)
    assert after == before


@pytest.mark.parametrize("name", ["windows executable", "plain text", "html", "plain zip"])
def test_wrong_type_named_pdf_is_refused_and_writes_nothing(
    client: TestClient,
    db: Session,
    personas: Personas,
    situation: WorkSituation,
    unchanged: None,
    name: str,
) -> None:
    personas.apprentice_a.locale = "en"
    response = upload(
        client,
        bearer(db, personas.apprentice_a),
        f"{API}/work-situations/{situation.id}/attachments",
        IMPOSTORS[name],
        filename="x.pdf",
        content_type="application/pdf",
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("This type of file is not accepted.")


BOUNDARY = "livretboundary"
CHUNKED_CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def chunked_pdf_upload(megabytes: int, csrf_token: str | None = None) -> Iterator[bytes]:
    """A multipart body sent in 64 KB chunks without a declared size: a "PDF" file field of
    about ``megabytes`` MB, after a CSRF field when a token is given."""
    if csrf_token is not None:
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{csrf_token}\r\n"
        ).encode()
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-'
    ).encode()
    for _ in range(megabytes * 16):
        yield b"0" * (64 * 1024)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def body_never_reaches_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the request body should have been refused while being read")

    monkeypatch.setattr(attachments, "store_upload", fail)


def test_11_mb_upload_answers_413(
    client: TestClient,
    db: Session,
    personas: Personas,
    situation: WorkSituation,
    unchanged: None,
    body_never_reaches_the_service: None,
) -> None:
    personas.apprentice_a.locale = "en"
    response = upload(
        client,
        bearer(db, personas.apprentice_a),
        f"{API}/work-situations/{situation.id}/attachments",
        pdf_bytes(11 * MB),
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The file is larger than the 10 MB limit."


def test_chunked_upload_past_the_limit_answers_413(
    client: TestClient,
    db: Session,
    personas: Personas,
    situation: WorkSituation,
    unchanged: None,
    body_never_reaches_the_service: None,
) -> None:
    response = client.post(
        f"{API}/work-situations/{situation.id}/attachments",
        content=chunked_pdf_upload(11),  # no Content-Length: the server must count
        headers={**bearer(db, personas.apprentice_a), "Content-Type": CHUNKED_CONTENT_TYPE},
    )
    assert response.status_code == 413


def test_chunked_upload_with_the_csrf_token_as_a_form_field_is_capped_too(
    client: TestClient,
    db: Session,
    settings: Settings,
    personas: Personas,
    situation: WorkSituation,
    unchanged: None,
    body_never_reaches_the_service: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A browser session sending its CSRF token as a form field: the CSRF check reads the
    form before the upload parser does, and that read is capped as well (13 MB, no
    Content-Length, refused once 12 MB have arrived)."""
    login_as(client, db, settings, personas.apprentice_a)
    response = client.post(
        f"{API}/work-situations/{situation.id}/attachments",
        content=chunked_pdf_upload(13, csrf_token=csrf_for(client, settings)),
        headers={"Content-Type": CHUNKED_CONTENT_TYPE},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "La requête est trop volumineuse."
    # Refused by the count of received bytes (the test client itself sends everything).
    assert "Request body over 12582912 bytes refused" in caplog.text


def test_file_one_byte_over_the_limit_answers_413(
    client: TestClient, db: Session, personas: Personas, situation: WorkSituation, unchanged: None
) -> None:
    data = pdf_bytes(MAX_ATTACHMENT_BYTES - len(pdf_bytes()) + 1)
    assert len(data) == MAX_ATTACHMENT_BYTES + 1
    response = upload(
        client,
        bearer(db, personas.apprentice_a),
        f"{API}/work-situations/{situation.id}/attachments",
        data,
    )
    assert response.status_code == 413


def test_file_at_the_limit_is_accepted(
    client: TestClient, db: Session, personas: Personas, situation: WorkSituation
) -> None:
    data = pdf_bytes(MAX_ATTACHMENT_BYTES - len(pdf_bytes()))
    assert len(data) == MAX_ATTACHMENT_BYTES
    response = upload(
        client,
        bearer(db, personas.apprentice_a),
        f"{API}/work-situations/{situation.id}/attachments",
        data,
    )
    assert response.status_code == 201
    assert response.json()["size_bytes"] == MAX_ATTACHMENT_BYTES


@pytest.mark.parametrize(
    "kwargs",
    [
        {"files": {"other": ("x.pdf", pdf_bytes(), "application/pdf")}},
        {"json": {"file": "JVBERi0="}},
        {"data": {"file": "not a file"}},
        {"files": {"file": ("x.pdf", b"", "application/pdf")}},
    ],
)
def test_upload_without_a_usable_file_is_refused(
    client: TestClient,
    db: Session,
    personas: Personas,
    situation: WorkSituation,
    unchanged: None,
    kwargs: dict[str, Any],
) -> None:
    response = client.post(
        f"{API}/work-situations/{situation.id}/attachments",
        headers=bearer(db, personas.apprentice_a),
        **kwargs,
    )
    assert response.status_code == 422, response.text


# --- Who may change ---------------------------------------------------------------------------


def test_only_the_apprentice_adds_or_deletes(
    client: TestClient, db: Session, personas: Personas, situation: WorkSituation
) -> None:
    p = personas
    url = f"{API}/work-situations/{situation.id}/attachments"
    created = upload(client, bearer(db, p.apprentice_a), url, pdf_bytes()).json()
    attachment_count = count_rows(db, Attachment)
    for who in (p.tutor_a, p.supervisor_a, p.admin):
        headers = bearer(db, who)
        assert upload(client, headers, url, pdf_bytes()).status_code == 403
        assert client.delete(created["url"], headers=headers).status_code == 403
    assert count_rows(db, Attachment) == attachment_count


def test_attachments_change_only_while_draft(
    client: TestClient,
    db: Session,
    settings: Settings,
    personas: Personas,
    situation: WorkSituation,
) -> None:
    p = personas
    apprentice = bearer(db, p.apprentice_a)
    url = f"{API}/work-situations/{situation.id}/attachments"
    created = upload(client, apprentice, url, pdf_bytes()).json()
    client.post(f"{API}/work-situations/{situation.id}/submit", headers=apprentice)
    files = files_in(settings.attachments_dir)
    assert upload(client, apprentice, url, png_bytes(), "a.png").status_code == 409
    assert client.delete(created["url"], headers=apprentice).status_code == 409
    assert files_in(settings.attachments_dir) == files
    assert client.get(created["url"], headers=bearer(db, p.tutor_a)).status_code == 200


def test_attachment_count_is_capped(
    client: TestClient, db: Session, personas: Personas, situation: WorkSituation
) -> None:
    headers = bearer(db, personas.apprentice_a)
    url = f"{API}/work-situations/{situation.id}/attachments"
    for _ in range(attachments.MAX_ATTACHMENTS_PER_SITUATION):
        assert upload(client, headers, url, png_bytes(), "a.png").status_code == 201
    assert upload(client, headers, url, png_bytes(), "a.png").status_code == 422


def test_deleting_a_situation_removes_its_files(
    client: TestClient,
    db: Session,
    settings: Settings,
    personas: Personas,
    situation: WorkSituation,
) -> None:
    apprentice = bearer(db, personas.apprentice_a)
    url = f"{API}/work-situations/{situation.id}/attachments"
    names = set()
    for _ in range(2):
        attachment_id = upload(client, apprentice, url, pdf_bytes()).json()["id"]
        row = db.get(Attachment, attachment_id)
        assert row is not None
        names.add(row.stored_name)
    assert names <= files_in(settings.attachments_dir)
    response = client.delete(f"{API}/work-situations/{situation.id}", headers=apprentice)
    assert response.status_code == 204
    assert not names & files_in(settings.attachments_dir)
    assert db.scalar(select(func.count()).where(Attachment.id == attachment_id)) == 0


# --- Who may see ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["tutor_b", "apprentice_b", "supervisor_b", "outsider"])
def test_tutor_of_other_apprentice_gets_404(
    client: TestClient,
    db: Session,
    settings: Settings,
    personas: Personas,
    situation: WorkSituation,
    who: str,
) -> None:
    p = personas
    apprentice = bearer(db, p.apprentice_a)
    evidence = upload(
        client, apprentice, f"{API}/work-situations/{situation.id}/attachments", pdf_bytes()
    ).json()
    result = client.post(
        f"{API}/apprenticeships/{p.apprenticeship_a.id}/english-results",
        json={"test_name": "TOEIC", "score": "900", "cefr_level": "C1", "taken_on": "2025-06-01"},
        headers=apprentice,
    ).json()
    certificate = upload(
        client, apprentice, f"{API}/english-results/{result['id']}/attachments", pdf_bytes()
    ).json()
    headers = bearer(db, getattr(p, who))
    before = _stored_state(db, settings)
    for url in (
        f"{API}/work-situations/{situation.id}/attachments",
        f"{API}/english-results/{result['id']}/attachments",
    ):
        response = upload(client, headers, url, pdf_bytes())
        assert response.status_code == 404, url
    for url in (
        f"{API}/work-situations/{situation.id}/attachments",
        evidence["url"],
        certificate["url"],
    ):
        assert client.get(url, headers=headers).status_code == 404, url
    for url in (evidence["url"], certificate["url"]):
        assert client.delete(url, headers=headers).status_code == 404, url
    after = _stored_state(db, settings)
    assert after == before


def test_missing_file_on_disk_answers_404_not_500(
    client: TestClient,
    db: Session,
    settings: Settings,
    personas: Personas,
    situation: WorkSituation,
) -> None:
    headers = bearer(db, personas.apprentice_a)
    created = upload(
        client, headers, f"{API}/work-situations/{situation.id}/attachments", pdf_bytes()
    ).json()
    row = db.get(Attachment, created["id"])
    assert row is not None
    (settings.attachments_dir / row.stored_name).unlink()
    assert client.get(created["url"], headers=headers).status_code == 404


# --- English certificates ---------------------------------------------------------------------


def test_english_certificate(
    client: TestClient, db: Session, settings: Settings, personas: Personas
) -> None:
    p = personas
    apprentice = bearer(db, p.apprentice_a)
    result = client.post(
        f"{API}/apprenticeships/{p.apprenticeship_a.id}/english-results",
        json={"test_name": "TOEIC", "score": "905", "cefr_level": "C1", "taken_on": "2025-06-01"},
        headers=apprentice,
    ).json()
    url = f"{API}/english-results/{result['id']}/attachments"
    for who in (p.tutor_a, p.supervisor_a):
        assert upload(client, bearer(db, who), url, pdf_bytes()).status_code == 403
    created = upload(client, apprentice, url, pdf_bytes(), "TOEIC.pdf")
    assert created.status_code == 201
    assert upload(client, apprentice, url, png_bytes(), "again.png").status_code == 409
    listing = client.get(
        f"{API}/apprenticeships/{p.apprenticeship_a.id}/english-results",
        headers=bearer(db, p.supervisor_a),
    ).json()
    assert [a["filename"] for a in listing[0]["attachments"]] == ["TOEIC.pdf"]
    download = client.get(created.json()["url"], headers=bearer(db, p.tutor_a))
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert client.delete(created.json()["url"], headers=bearer(db, p.tutor_a)).status_code == 403
    assert client.delete(created.json()["url"], headers=bearer(db, p.admin)).status_code == 204
    assert upload(client, bearer(db, p.admin), url, png_bytes(), "scan.png").status_code == 201


# --- Files and the database transaction -------------------------------------------------------


def test_failed_write_after_storing_removes_the_file(
    db: Session,
    settings: Settings,
    personas: Personas,
    situation: WorkSituation,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = files_in(settings.attachments_dir)

    def broken_audit(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(attachments.audit, "record", broken_audit)
    with pytest.raises(RuntimeError):
        attachments.add_to_situation(
            db,
            personas.apprentice_a,
            settings.attachments_dir,
            situation.id,
            io.BytesIO(pdf_bytes()),
            "x.pdf",
        )
    assert files_in(settings.attachments_dir) == files


def test_rollback_removes_the_new_file(
    db: Session, settings: Settings, personas: Personas, situation: WorkSituation
) -> None:
    files = files_in(settings.attachments_dir)
    attachment = attachments.add_to_situation(
        db,
        personas.apprentice_a,
        settings.attachments_dir,
        situation.id,
        io.BytesIO(pdf_bytes()),
        "x.pdf",
    )
    assert attachment.stored_name in files_in(settings.attachments_dir)
    db.rollback()  # e.g. the request's commit failed
    assert files_in(settings.attachments_dir) == files


def test_deleted_file_goes_only_once_committed(
    db: Session, settings: Settings, personas: Personas, situation: WorkSituation
) -> None:
    p = personas
    attachment = attachments.add_to_situation(
        db, p.apprentice_a, settings.attachments_dir, situation.id, io.BytesIO(pdf_bytes()), "x"
    )
    attachment_id, name = attachment.id, attachment.stored_name
    db.commit()  # the upload is committed: the file must now survive any later rollback
    attachments.delete_attachment(db, p.apprentice_a, settings.attachments_dir, attachment_id)
    assert name in files_in(settings.attachments_dir)
    db.rollback()  # the deletion did not happen: the file stays
    assert name in files_in(settings.attachments_dir)
    attachments.delete_attachment(db, p.apprentice_a, settings.attachments_dir, attachment_id)
    db.commit()
    assert name not in files_in(settings.attachments_dir)


def test_english_result_lookup_is_scoped(db: Session, personas: Personas) -> None:
    result = degree.create_english_result(
        db,
        personas.apprentice_a,
        personas.apprenticeship_a.id,
        degree.EnglishResultInput("IELTS", "7.5", "C1", date(2025, 5, 1)),
    )
    with pytest.raises(NotFound):
        degree.get_english_result(db, personas.tutor_b, result.id)


# --- Sweeping unreferenced files --------------------------------------------------------------


def test_sweep_lists_then_removes_only_old_unreferenced_files(
    db: Session, tmp_path: Path, personas: Personas, situation: WorkSituation
) -> None:
    directory = tmp_path / "attachments"  # its own folder: other tests' files stay out
    kept = attachments.add_to_situation(
        db, personas.apprentice_a, directory, situation.id, io.BytesIO(pdf_bytes()), "kept.pdf"
    )
    db.flush()
    now = datetime.now(UTC)
    day_ago = (now - timedelta(hours=25)).timestamp()

    orphan = directory / ("ab" * 16)
    orphan.write_bytes(b"%PDF-")  # written after a crash, never committed
    os.utime(orphan, (day_ago, day_ago))
    leftover = directory / ".upload-x1y2.part"
    leftover.write_bytes(b"half an upload")
    os.utime(leftover, (day_ago, day_ago))
    recent = directory / ("cd" * 16)
    recent.write_bytes(b"%PDF-")  # an upload whose transaction may still commit
    stranger = directory / "notes.txt"
    stranger.write_text("not ours: never touched")
    os.utime(stranger, (day_ago, day_ago))
    os.utime(directory / kept.stored_name, (day_ago, day_ago))

    dry = storage.sweep_unreferenced_files(db, directory, now=now)
    assert set(dry.orphans) == {orphan, leftover}
    assert (dry.removed, dry.recent, dry.referenced) == (0, 1, 1)
    assert orphan.exists() and leftover.exists()

    done = storage.sweep_unreferenced_files(db, directory, now=now, delete=True)
    assert done.removed == 2
    assert not orphan.exists() and not leftover.exists()
    assert recent.exists() and stranger.exists() and (directory / kept.stored_name).exists()
