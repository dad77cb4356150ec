"""Rolling a school out, in a real browser with the CSP enforced: an administrator imports a
CSV of 10 people and sends their invitations in one action; two of them follow their link,
choose a password and are signed in; a used link and an eight-day-old one say so and offer a
new one. (The same journey through a real SMTP server: tests/people/test_invitations.py.)"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select, update

from app.models import AccountLink, OutboxMessage, User
from app.models.base import utcnow
from tests.browser.conftest import LiveServer, Person, World
from tests.browser.helpers import BrowserSession, browser_test, login, screenshot
from tests.factories import make_cohort

pytestmark = browser_test

TEN_PEOPLE = Path(__file__).parent.parent / "people" / "fixtures" / "ten_people.csv"
NEW_PASSWORD = "velo rouge sous la pluie 42"
PATH = re.compile(r"(/invitation/[A-Za-z0-9_-]{40,})")


def _invitation_path(live_server: LiveServer, email: str) -> str:
    with live_server.session() as session:
        body = session.scalars(
            select(OutboxMessage.text_body)
            .where(OutboxMessage.kind == "invitation", OutboxMessage.to_address == email)
            .order_by(OutboxMessage.id.desc())
        ).first()
    assert body, f"no invitation for {email}"
    match = PATH.search(body)
    assert match, body
    return match.group(1)


def test_import_invite_and_two_people_set_their_password(
    browser_session: BrowserSession, live_server: LiveServer, world: World
) -> None:
    with live_server.session() as session:
        cohort = make_cohort(session)
        cohort.name = "FISA Invitations"
        session.commit()

    admin = browser_session.page_as(world.admin, "/admin/import")
    admin.set_input_files("#file", str(TEN_PEOPLE))
    admin.locator("form:has(#file) button[type=submit]").click()
    expect(admin.locator("#invitees summary")).to_contain_text("10 personnes seront invitées")
    expect(admin.locator("#invite")).to_be_checked()
    admin.locator("form[action='/admin/import/confirm'] button[type=submit]").click()
    expect(admin.locator(".notice-success")).to_contain_text("10 invitations envoyées")

    # Once signed in, pages follow the person's language (Kim's is English).
    for email, name, used in (
        ("ines.aubert@etu.example", "Inès Aubert", "déjà été utilisée"),
        ("kim.nguyen@etu.example", "Kim Nguyen", "already used"),
    ):
        path = _invitation_path(live_server, email)
        page = browser_session.new_page()
        page.goto(path)
        expect(page.locator("main")).to_contain_text(name)
        page.fill("#password", NEW_PASSWORD)
        page.fill("#confirm", NEW_PASSWORD)
        page.locator(f"form[action='{path}'] button[type=submit]").click()
        page.wait_for_url(lambda url: "/invitation/" not in url)
        expect(page.locator("footer")).to_contain_text(name)
        # The link worked once: opened again, it says so and offers a new one.
        page.goto(path)
        expect(page.get_by_role("alert")).to_contain_text(used)
        expect(page.locator("form[action='/password/forgot']")).to_be_visible()
        # The chosen password signs in from a fresh browser.
        with live_server.session() as session:
            user_id = session.scalars(select(User.id).where(User.email == email)).one()
        login(browser_session.new_page(), Person(user_id, email, name, NEW_PASSWORD))

    # An invitation that is eight days old is refused, with a button for a new one.
    waiting = "jules.bonnet@etu.example"
    old_path = _invitation_path(live_server, waiting)
    eight_days_ago = utcnow() - timedelta(days=8)
    with live_server.session() as session:
        user_id = session.scalars(select(User.id).where(User.email == waiting)).one()
        session.execute(
            update(AccountLink)
            .where(AccountLink.user_id == user_id)
            .values(created_at=eight_days_ago, expires_at=eight_days_ago + timedelta(days=7))
        )
        session.commit()
    page = browser_session.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(old_path)
    expect(page.get_by_role("alert")).to_contain_text("Cette invitation a expiré le")
    screenshot(page, "invitation-expired-390")
    page.get_by_role("button", name="M'envoyer une nouvelle invitation").click()
    expect(page.get_by_role("status")).to_contain_text("nouvelle invitation")
    assert _invitation_path(live_server, waiting) != old_path
