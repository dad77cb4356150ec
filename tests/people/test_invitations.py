"""Invitations: created people (form, CSV import) receive a single-use link, valid 7 days, to
choose a password; used and expired links say so and offer a new one."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AccountLink, AccountLinkPurpose, AuditEvent, AuthSession, User
from app.models.base import utcnow
from app.services.errors import Conflict
from app.services.notifications import sender
from app.services.people import account_links, invitations
from app.services.people.account_links import LinkState
from app.services.people.auth import token_digest
from app.services.people.rules import AccountStatus, account_status
from app.web.csrf import SESSION_COOKIE
from tests.factories import make_cohort, make_user
from tests.helpers import Personas, bearer, count_rows, csrf_for, login_as
from tests.mailbox import BASE_URL, Collector, app_with, outbox, session_factory, smtp_server
from tests.mailbox import with_smtp as smtp_settings

TEN_PEOPLE = Path(__file__).parent / "fixtures" / "ten_people.csv"
NEW_PASSWORD = "velo rouge sous la pluie 42"
LINK = re.compile(re.escape(BASE_URL) + r"(/invitation/[A-Za-z0-9_-]{40,})")


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mail_settings(settings: Settings, smtp: tuple[Collector, int]) -> Settings:
    return smtp_settings(settings, smtp[1])


@pytest.fixture
def web(mail_settings: Settings, connection) -> Iterator[TestClient]:
    with TestClient(app_with(mail_settings, connection), follow_redirects=False) as client:
        client.cookies.set("livret_lang", "en")  # pages in English (mail: the person's language)
        yield client


def _path(text: str) -> str:
    match = LINK.search(text)
    assert match, text
    return match.group(1)


def _invitation_path(db: Session, email: str) -> str:
    return _path(outbox(db, kind="invitation", to=email)[-1].text_body)


def _choose(client: TestClient, settings: Settings, path: str, password: str, confirm=None):
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(
        path,
        data={
            "password": password,
            "confirm": password if confirm is None else confirm,
            "csrf_token": csrf_for(client, settings),
        },
    )


def _invite(db: Session, settings: Settings, admin: User, user: User) -> str:
    invitations.invite(db, settings, admin, user.id)
    db.flush()
    return _invitation_path(db, user.email)


@pytest.fixture
def newcomer(db: Session) -> User:
    user = make_user(db, name="Nina Nouvelle", email="nina@example.org", locale="en")
    user.password_hash = None
    db.flush()
    return user


# --- The whole journey: CSV import, mail on a real SMTP server, links, passwords ---------------


def test_import_ten_people_invite_them_and_two_sign_in(
    web: TestClient, db: Session, connection, mail_settings: Settings, smtp, personas: Personas
) -> None:
    inbox, _port = smtp
    cohort = make_cohort(db)
    cohort.name = "FISA Invitations"
    db.flush()
    login_as(web, db, mail_settings, personas.admin)
    web.get("/admin/import")
    checked = web.post(
        "/admin/import",
        files={"file": ("people.csv", TEN_PEOPLE.read_bytes(), "text/csv")},
        data={"csrf_token": csrf_for(web, mail_settings)},
    )
    assert checked.status_code == 200, checked.text
    preview = html.unescape(checked.text)
    assert "10 people will be invited" in preview or "10 personnes seront invitées" in preview
    assert "kim.nguyen@etu.example (English)" in preview.replace('<span lang="en">', "").replace(
        "</span>", ""
    )
    csv_text = html.unescape(re.search(r'name="csv_text" value="([^"]*)"', checked.text)[1])
    done = web.post(
        "/admin/import/confirm",
        data={"csv_text": csv_text, "invite": "true", "csrf_token": csrf_for(web, mail_settings)},
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith("&users=10&companies=2&invited=10")

    report = sender.send_pending(session_factory(connection, mail_settings), mail_settings)
    assert report.sent == 10
    assert len(inbox.received) == 10
    kim = inbox.to("kim.nguyen@etu.example")[0]
    assert kim.message["Subject"] == "Your Livret account is ready"
    ines = inbox.to("ines.aubert@etu.example")[0]
    assert ines.message["Subject"] == "Votre compte Livret est prêt"
    assert "7 jours" in ines.text
    sofia = inbox.to("sofia.ricci@motors.example")[0]
    assert "Your Livret account" in sofia.message["Subject"]  # "english" spelt out
    claire = inbox.to("claire.fabre@ecole.example")[0]
    assert claire.message["Subject"] == "Votre compte Livret est prêt"  # the school's default

    for received, name in ((ines, "Inès Aubert"), (kim, "Kim Nguyen")):
        visitor = TestClient(web.app, follow_redirects=False)
        path = _path(received.text)
        page = visitor.get(path)
        assert page.status_code == 200 and name in html.unescape(page.text)
        chosen = _choose(visitor, mail_settings, path, NEW_PASSWORD)
        assert chosen.status_code == 303 and chosen.headers["location"] == "/"
        home = visitor.get("/")  # an apprentice's home leads to their portfolio
        assert home.status_code in (200, 303) and "/login" not in home.headers.get("location", "")
        # The password works on the sign-in form afterwards.
        fresh = TestClient(web.app, follow_redirects=False)
        fresh.get("/login")
        login = fresh.post(
            "/login",
            data={
                "email": received.rcpt_tos[0],
                "password": NEW_PASSWORD,
                "csrf_token": csrf_for(fresh, mail_settings),
            },
        )
        assert login.status_code == 303, login.text
        # A used link is refused, says so and points to sign-in and a new link.
        again = visitor.get(path)
        assert again.status_code == 400
        text = html.unescape(again.text)
        assert "already used" in text or "déjà été utilisée" in text
        assert 'action="/password/forgot"' in again.text and 'href="/login"' in again.text

    ines_user = db.scalars(select(User).where(User.email == "ines.aubert@etu.example")).one()
    assert account_status(ines_user) is AccountStatus.ACTIVE
    waiting = db.scalars(select(User).where(User.email == "jules.bonnet@etu.example")).one()
    assert account_status(waiting) is AccountStatus.INVITED
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_id == str(ines_user.id))
    ).all()
    assert "user.invite" in actions and "user.invitation_accepted" in actions


def test_an_eight_day_old_invitation_is_refused_and_offers_a_new_one(
    web: TestClient, db: Session, mail_settings: Settings, personas: Personas, newcomer: User
) -> None:
    path = _invite(db, mail_settings, personas.admin, newcomer)
    eight_days_ago = utcnow() - timedelta(days=8)
    db.execute(
        update(AccountLink)
        .where(AccountLink.user_id == newcomer.id)
        .values(created_at=eight_days_ago, expires_at=eight_days_ago + timedelta(days=7))
    )
    db.flush()
    page = web.get(path)
    assert page.status_code == 400
    assert "This invitation expired on" in page.text
    assert f'action="{path}/renew"' in page.text
    # Choosing a password with it fails the same way, and nothing changes.
    web.get("/login")
    refused = web.post(
        path,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_for(web, mail_settings),
        },
    )
    assert refused.status_code == 400
    db.refresh(newcomer)
    assert newcomer.password_hash is None

    renewed = web.post(f"{path}/renew", data={"csrf_token": csrf_for(web, mail_settings)})
    assert renewed.status_code == 303 and renewed.headers["location"] == "/invitation/renewed"
    new_path = _invitation_path(db, newcomer.email)
    assert new_path != path
    assert _choose(web, mail_settings, new_path, NEW_PASSWORD).status_code == 303


def test_renewing_is_throttled_like_password_resets(
    web: TestClient, db: Session, mail_settings: Settings, personas: Personas, newcomer: User
) -> None:
    path = _invite(db, mail_settings, personas.admin, newcomer)
    db.execute(update(AccountLink).values(expires_at=utcnow() - timedelta(days=1)))
    db.flush()
    web.get("/login")
    answers = [
        web.post(f"{path}/renew", data={"csrf_token": csrf_for(web, mail_settings)}).status_code
        for _ in range(mail_settings.password_reset_max_per_window + 1)
    ]
    assert answers == [303] * mail_settings.password_reset_max_per_window + [429]


def test_resending_makes_the_previous_link_stop_working(
    web: TestClient, db: Session, mail_settings: Settings, personas: Personas, newcomer: User
) -> None:
    first = _invite(db, mail_settings, personas.admin, newcomer)
    second = _invite(db, mail_settings, personas.admin, newcomer)
    assert web.get(first).status_code == 400
    assert web.get(second).status_code == 200


def test_links_are_stored_hashed_and_expire_after_seven_days(
    db: Session, mail_settings: Settings, personas: Personas, newcomer: User
) -> None:
    path = _invite(db, mail_settings, personas.admin, newcomer)
    token = path.rsplit("/", 1)[1]
    link = db.scalars(select(AccountLink).where(AccountLink.user_id == newcomer.id)).one()
    assert link.token_hash == token_digest(token) and token not in link.token_hash
    assert link.purpose is AccountLinkPurpose.INVITATION
    assert link.expires_at - link.created_at == timedelta(days=7)
    assert link.created_by_id == personas.admin.id
    lookup = account_links.lookup(db, token, AccountLinkPurpose.INVITATION)
    assert lookup.state is LinkState.USABLE
    # An invitation token is no reset token.
    assert account_links.lookup(db, token, AccountLinkPurpose.RESET).state is LinkState.UNKNOWN


def test_weak_passwords_are_refused_with_the_reason_and_the_link_still_works(
    web: TestClient, db: Session, mail_settings: Settings, personas: Personas, newcomer: User
) -> None:
    path = _invite(db, mail_settings, personas.admin, newcomer)
    common = _choose(web, mail_settings, path, "motdepasse123")
    assert common.status_code == 422
    assert 'id="password-error"' in common.text
    short = _choose(web, mail_settings, path, "Abcdefgh1!x")  # 11 characters
    assert short.status_code == 422 and "at least 12 characters" in html.unescape(short.text)
    differ = _choose(web, mail_settings, path, NEW_PASSWORD, confirm=NEW_PASSWORD + "!")
    assert differ.status_code == 422 and 'id="confirm-error"' in differ.text
    db.refresh(newcomer)
    assert newcomer.password_hash is None
    assert _choose(web, mail_settings, path, NEW_PASSWORD).status_code == 303


def test_the_reason_is_in_the_readers_language(
    web: TestClient, db: Session, mail_settings: Settings, personas: Personas, newcomer: User
) -> None:
    path = _invite(db, mail_settings, personas.admin, newcomer)
    web.cookies.set("livret_lang", "fr")
    refused = _choose(web, mail_settings, path, "Abcdefgh1!x")
    assert "au moins 12 caractères" in html.unescape(refused.text)


def test_a_tutor_may_sign_in_with_the_invitation_and_keep_using_links(
    web: TestClient, db: Session, mail_settings: Settings, personas: Personas
) -> None:
    tutor = personas.tutor_b
    tutor.password_hash = None
    db.flush()
    path = _invite(db, mail_settings, personas.admin, tutor)
    page = web.get(path)
    assert f'action="{path}/link"' in page.text
    signed = web.post(f"{path}/link", data={"csrf_token": csrf_for(web, mail_settings)})
    assert signed.status_code == 303
    token = web.cookies.get(SESSION_COOKIE)
    auth = db.get(AuthSession, token_digest(token))
    assert auth is not None and auth.auth_method == "link"
    db.refresh(tutor)
    assert tutor.password_hash is None and account_status(tutor) is AccountStatus.ACTIVE
    assert web.get(path).status_code == 400  # single use


def test_without_sign_in_links_for_everyone_an_apprentice_must_choose_a_password(
    db: Session, connection, mail_settings: Settings, personas: Personas, newcomer: User
) -> None:
    restricted = mail_settings.model_copy(update={"signin_links_for_everyone": False})
    path = _invite(db, restricted, personas.admin, newcomer)
    with TestClient(app_with(restricted, connection), follow_redirects=False) as web:
        page = web.get(path)
        assert page.status_code == 200 and "/link" not in page.text.split(path, 2)[-1][:20]
        refused = web.post(f"{path}/link", data={"csrf_token": csrf_for(web, restricted)})
        assert refused.status_code == 409
    assert "without a password" not in outbox(db, kind="invitation")[-1].text_body


def test_only_active_accounts_without_a_password_may_be_invited(
    db: Session, settings: Settings, personas: Personas, newcomer: User
) -> None:
    with pytest.raises(Conflict):
        invitations.invite(db, settings, personas.admin, personas.apprentice_a.id)
    newcomer.is_active = False
    db.flush()
    with pytest.raises(Conflict):
        invitations.invite(db, settings, personas.admin, newcomer.id)
    assert count_rows(db, AccountLink) == 0


def test_a_deactivated_accounts_invitation_is_not_valid(
    web: TestClient, db: Session, mail_settings: Settings, personas: Personas, newcomer: User
) -> None:
    path = _invite(db, mail_settings, personas.admin, newcomer)
    newcomer.is_active = False
    db.flush()
    assert web.get(path).status_code == 400
    assert "not valid" in web.get(path).text


# --- Administrators ---------------------------------------------------------------------------


def test_creating_an_account_with_an_invitation_sends_it_in_the_persons_language(
    web: TestClient, db: Session, mail_settings: Settings, personas: Personas
) -> None:
    login_as(web, db, mail_settings, personas.admin)
    page = web.get("/admin/users")
    assert 'name="invite" type="checkbox" value="true" checked' in page.text
    created = web.post(
        "/admin/users",
        data={
            "email": "olga@example.org",
            "full_name": "Olga Ivanova",
            "locale": "en",
            "invite": "true",
            "csrf_token": csrf_for(web, mail_settings),
        },
    )
    assert created.status_code == 303 and created.headers["location"].endswith("?done=invited")
    [message] = outbox(db, kind="invitation", to="olga@example.org")
    assert message.locale == "en" and message.subject == "Your Livret account is ready"
    assert personas.admin.full_name in message.text_body  # who invited them


def test_an_invitation_with_a_password_is_refused_next_to_the_field(
    web: TestClient, db: Session, mail_settings: Settings, personas: Personas
) -> None:
    login_as(web, db, mail_settings, personas.admin)
    web.get("/admin/users")
    refused = web.post(
        "/admin/users",
        data={
            "email": "olga@example.org",
            "full_name": "Olga Ivanova",
            "locale": "fr",
            "password": NEW_PASSWORD,
            "invite": "true",
            "csrf_token": csrf_for(web, mail_settings),
        },
    )
    assert refused.status_code == 422 and 'id="invite-error"' in refused.text
    assert db.scalars(select(User).where(User.email == "olga@example.org")).first() is None


def test_users_page_shows_status_last_sign_in_roles_and_a_resend_button(
    web: TestClient, db: Session, mail_settings: Settings, personas: Personas, newcomer: User
) -> None:
    invitations.invite(db, mail_settings, personas.admin, newcomer.id)
    waiting = make_user(db, name="Wanda Waiting", email="wanda@example.org")
    waiting.password_hash = None
    personas.admin.locale = "en"  # pages follow the signed-in person's language
    db.flush()
    login_as(web, db, mail_settings, personas.admin)
    page = html.unescape(web.get("/admin/users?q=example.org").text)
    row = page.split(f'id="user-{newcomer.id}"')[1].split("</tr>")[0]
    assert "invited" in row and "Resend the invitation" in row and "never" in row
    other = page.split(f'id="user-{waiting.id}"')[1].split("</tr>")[0]
    assert "not invited yet" in other and ">Invite<" in other.replace("\n", "").replace(" ", "")
    everyone = html.unescape(web.get("/admin/users").text)
    supervisor = everyone.split(f'id="user-{personas.supervisor_a.id}"')[1].split("</tr>")[0]
    assert f"supervisor of {personas.apprentice_a.full_name}" in supervisor
    admin_row = everyone.split(f'id="user-{personas.admin.id}"')[1].split("</tr>")[0]
    assert "administrator" in admin_row and "never" not in admin_row  # signed in just now
    assert "1 account not invited yet" in everyone or "accounts not invited yet" in everyone


def test_one_action_invites_everyone_not_invited_yet(
    web: TestClient, db: Session, mail_settings: Settings, personas: Personas
) -> None:
    people = [make_user(db, email=f"wait{i}@example.org") for i in range(3)]
    for person in people:
        person.password_hash = None
    db.flush()
    before = invitations.count_not_invited(db, personas.admin)
    assert before >= 3
    login_as(web, db, mail_settings, personas.admin)
    web.get("/admin/users")
    sent = web.post("/admin/users/invitations", data={"csrf_token": csrf_for(web, mail_settings)})
    assert sent.status_code == 303 and sent.headers["location"] == f"/admin/users?invited={before}"
    assert invitations.count_not_invited(db, personas.admin) == 0
    assert {m.to_address for m in outbox(db, kind="invitation")} >= {p.email for p in people}
    notice = web.get(sent.headers["location"]).text
    assert f"{before} invitations sent" in notice or f"{before} invitations envoyées" in notice


def test_resend_from_the_row_with_htmx_and_from_the_account_page(
    web: TestClient, db: Session, mail_settings: Settings, personas: Personas, newcomer: User
) -> None:
    login_as(web, db, mail_settings, personas.admin)
    web.get(f"/admin/users/{newcomer.id}")
    url = f"/admin/users/{newcomer.id}/invitation"
    fragment = web.post(
        url, data={"csrf_token": csrf_for(web, mail_settings)}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith("<tr")
    assert "HX-Trigger" in fragment.headers
    page = web.post(url, data={"csrf_token": csrf_for(web, mail_settings)})
    assert page.status_code == 303 and page.headers["location"].endswith("?done=invited")
    assert len(outbox(db, kind="invitation", to=newcomer.email)) == 2
    for role in ("apprentice_a", "tutor_a", "supervisor_a"):
        other = TestClient(web.app, follow_redirects=False)
        login_as(other, db, mail_settings, getattr(personas, role))
        other.get("/")
        assert (
            other.post(url, data={"csrf_token": csrf_for(other, mail_settings)}).status_code == 403
        )


# --- The API ----------------------------------------------------------------------------------


def test_the_api_sends_an_invitation_and_refuses_what_the_page_refuses(
    client: TestClient, db: Session, personas: Personas, newcomer: User
) -> None:
    headers = bearer(db, personas.admin)
    sent = client.post(f"/api/v1/users/{newcomer.id}/invitations", headers=headers)
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["user_id"] == newcomer.id and body["status"] == "invited"
    assert body["valid_days"] == 7 and body["locale"] == "en"
    assert len(outbox(db, kind="invitation", to=newcomer.email)) == 1
    has_password = client.post(f"/api/v1/users/{personas.tutor_a.id}/invitations", headers=headers)
    assert has_password.status_code == 409
    assert client.post("/api/v1/users/999999/invitations", headers=headers).status_code == 404
    for role in ("apprentice_a", "tutor_a", "supervisor_a"):
        other = bearer(db, getattr(personas, role))
        denied = client.post(f"/api/v1/users/{newcomer.id}/invitations", headers=other)
        assert denied.status_code == 403
    assert len(outbox(db, kind="invitation", to=newcomer.email)) == 1


def test_the_api_invites_several_people_and_says_who_was_skipped(
    client: TestClient, db: Session, personas: Personas, newcomer: User
) -> None:
    headers = bearer(db, personas.admin)
    answer = client.post(
        "/api/v1/invitations",
        json={"user_ids": [newcomer.id, personas.apprentice_a.id, 999999]},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["sent"] == [newcomer.id]
    assert [s["user_id"] for s in body["skipped"]] == [personas.apprentice_a.id]
    assert (
        "password" in body["skipped"][0]["reason"] or "mot de passe" in body["skipped"][0]["reason"]
    )
    assert (
        client.post("/api/v1/invitations", json={"user_ids": []}, headers=headers).status_code
        == 422
    )


def test_the_api_creates_a_person_with_an_invitation_in_the_schools_language(
    db: Session, connection, settings: Settings, personas: Personas
) -> None:
    english_school = settings.model_copy(update={"default_locale": "en"})
    with TestClient(app_with(english_school, connection)) as api:
        created = api.post(
            "/api/v1/users",
            json={"email": "pat@example.org", "full_name": "Pat Lee", "invite": True},
            headers=bearer(db, personas.admin),
        )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "invited" and created.json()["locale"] == "en"
    [message] = outbox(db, kind="invitation", to="pat@example.org")
    assert message.locale == "en"


def test_the_api_import_invites_the_new_people(
    client: TestClient, db: Session, personas: Personas
) -> None:
    cohort = make_cohort(db)
    cohort.name = "FISA Invitations"
    db.flush()
    headers = {**bearer(db, personas.admin), "Content-Type": "text/csv"}
    dry = client.post(
        "/api/v1/imports?dry_run=true", content=TEN_PEOPLE.read_bytes(), headers=headers
    )
    assert dry.status_code == 200 and len(dry.json()["new_people"]) == 10
    assert {p["locale"] for p in dry.json()["new_people"]} == {"fr", "en"}
    assert outbox(db, kind="invitation") == []
    done = client.post(
        "/api/v1/imports?invite=true", content=TEN_PEOPLE.read_bytes(), headers=headers
    )
    assert done.status_code == 201, done.text
    assert done.json()["invited"] == 10
    assert len(outbox(db, kind="invitation")) == 10
