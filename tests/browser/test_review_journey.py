"""The semester journey people actually take, in a real browser with the CSP enforced:
the apprentice logs a work situation and submits it, the tutor acknowledges it, the three
parties assess semester 1, agree on every competency, sign with their password, and
the supervisor's dashboard shows the block's new percentage and the locked review.

Run in French, then in English (switched with the header's language button)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, Trio, World, agree_levels
from tests.browser.helpers import (
    LABELS,
    BrowserSession,
    browser_test,
    save_level,
    screenshot,
    switch_language,
)

pytestmark = browser_test

PARTIES = ("apprentice", "tutor", "supervisor")
BLOCK = "RNCP39303BC01"
# Each party's own column, by competency code (suffix of RNCP39303). The apprentice's 2 and the
# tutor's 4 on BC01-C01 differ by two levels: the swapped row shows the divergence.
ASSESSMENTS = {
    "apprentice": {"BC01-C01": "2", "BC01-C02": "3", "BC02-C01": "na"},
    "tutor": {"BC01-C01": "4", "BC01-C02": "3"},
    "supervisor": {"BC01-C01": "3", "BC03-C01": "2"},
}
# Agreed levels set through the UI at the end; every other one is set through the service layer.
AGREED_IN_UI = {"BC01-C09": "3", "BC01-C10": "na"}
# BC01 (10 competencies): C01–C06 at 3 and C09 at 3 are acquired (threshold 3), C07–C08 at 2
# are not, C10 is not observed: 7 of 10.
ACQUIRED_IN_BLOCK = 7


def _agreed_by_service(world: World) -> dict[int, str]:
    levels = {}
    for code, cid in world.competency_ids.items():
        short = code.removeprefix("RNCP39303")
        if short in AGREED_IN_UI:
            continue
        acquired = short.startswith("BC01-") and short <= "BC01-C06"
        levels[cid] = "3" if acquired else "2"
    return levels


def _percent(part: int, whole: int) -> int:
    return (200 * part + whole) // (2 * whole)  # whole percent, rounded half up


def open_parties(session: BrowserSession, trio: Trio, lang: str) -> dict[str, Page]:
    """Each party signs in (its own browser context) and lands on the semester 1 review."""
    pages = {role: session.page_as(trio.party(role), trio.review_url) for role in PARTIES}
    for page in pages.values():
        if lang != "fr":
            switch_language(page, lang)
        expect(page.get_by_role("heading", level=1)).to_have_text(LABELS[lang]["review_heading"])
    return pages


def check_dashboard(page: Page, trio: Trio, lang: str, *, percent: int, locked: bool) -> None:
    ui = LABELS[lang]
    page.goto("/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text(ui["dashboard_heading"])
    row = page.locator("#dashboard-results tbody tr").filter(
        has=page.get_by_role("link", name=trio.apprentice.full_name)
    )
    expect(row).to_have_count(1)
    block_column = page.locator("#dashboard-results thead th").filter(has_text=BLOCK[-4:])
    expect(block_column).to_have_count(1)
    # The first cell is the row header (the apprentice), then company, then the blocks.
    expect(row.locator("td").nth(1)).to_have_text(f"{percent} %")
    last_review = row.locator("td").filter(has_text="S1")
    if locked:
        expect(last_review).to_contain_text(ui["locked"])
    else:
        expect(last_review).not_to_contain_text(ui["locked"])


def fill_in_journal(pages: dict[str, Page], trio: Trio, world: World, lang: str) -> None:
    """The apprentice logs a work situation through the form and submits it; the tutor
    acknowledges it from the journal."""
    ui = LABELS[lang]
    title = f"Revue de conception du carter ({lang})"
    apprentice = pages["apprentice"]
    apprentice.goto(f"/apprenticeships/{trio.apprenticeship_id}/journal/new")
    screenshot(apprentice, f"journey-{lang}-situation-form")
    apprentice.locator("#title").fill(title)
    apprentice.locator("#starts_on").fill("2025-10-06")
    apprentice.locator("#ends_on").fill("2025-10-10")
    apprentice.locator("#context").fill("Bureau d'études, équipe carters.")
    apprentice.locator("#actions").fill("Calculs de tenue, revue avec le chef de projet.")
    apprentice.locator("#results").fill("Deux renforts ajoutés, masse +3 %.")
    apprentice.locator("#learnings").fill("Préparer la revue avec les données d'essai.")
    apprentice.locator("#comp-filter").fill("C01")  # the picker's search narrows the list
    apprentice.locator('input[name="competency_codes"][value="RNCP39303BC01-C01"]').check()
    apprentice.get_by_role("button", name=ui["save_draft"]).click()
    expect(apprentice).to_have_url(re.compile(r"/work-situations/\d+\?notice=created$"))
    apprentice.get_by_role("button", name=ui["submit_situation"]).click()
    expect(apprentice.locator("hgroup .status")).to_have_text(ui["submitted"])

    tutor = pages["tutor"]
    tutor.goto(f"/apprenticeships/{trio.apprenticeship_id}/journal?status=submitted")
    tutor.get_by_role("link", name=title).click()
    tutor.locator("#tutor-comment").fill("Bonne analyse.")
    tutor.get_by_role("button", name=ui["acknowledge"], exact=True).click()
    expect(tutor.locator("hgroup .status")).to_have_text(ui["acknowledged"])
    for role in ("apprentice", "tutor"):
        pages[role].goto(trio.review_url)


def assess_own_columns(pages: dict[str, Page], trio: Trio, world: World, lang: str) -> None:
    ui = LABELS[lang]
    for role in PARTIES:
        page = pages[role]
        for code, level in ASSESSMENTS[role].items():
            save_level(page, role, world.cid(code), level)
            expect(page.locator("#messages")).to_contain_text(ui["saved"])
        if role == "tutor":
            c01 = world.cid("BC01-C01")
            expect(page.locator(f"tr#c{c01}")).to_have_class(re.compile(r"\bdivergent\b"))
    for role in PARTIES:  # saved for real: a reload shows every value
        page = pages[role]
        page.reload()
        for code, level in ASSESSMENTS[role].items():
            expect(page.locator(f"#lvl-{role}-{world.cid(code)}")).to_have_value(level)
    # The apprentice sees the tutor's level as text in the tutor's column.
    tutor_cell = pages["apprentice"].locator(f"tr#c{world.cid('BC01-C01')} td").nth(1)
    expect(tutor_cell).to_contain_text(ui["level_4"])


def agree_every_competency(
    live_server: LiveServer, pages: dict[str, Page], trio: Trio, world: World, lang: str
) -> None:
    ui = LABELS[lang]
    with live_server.session() as session:
        agree_levels(session, trio, _agreed_by_service(world))
        session.commit()
    tutor = pages["tutor"]
    tutor.reload()
    expect(tutor.locator("form.sign-form")).to_have_count(0)  # not every competency agreed yet
    for code, level in AGREED_IN_UI.items():
        save_level(tutor, "agreed", world.cid(code), level)
        expect(tutor.locator("#messages")).to_contain_text(ui["agreed_saved"])
    # The signatures panel came back with the last save: signing is open.
    expect(tutor.locator("form.sign-form")).to_have_count(1)
    tutor.reload()
    for code, level in AGREED_IN_UI.items():
        expect(tutor.locator(f"#lvl-agreed-{world.cid(code)}")).to_have_value(level)


def sign(page: Page, trio: Trio, password: str, lang: str) -> None:
    page.goto(trio.review_url)
    form = page.locator("form.sign-form")
    form.locator("#sign-password").fill(password)
    form.get_by_role("button", name=LABELS[lang]["sign_button"]).click()


def sign_by_all_three(pages: dict[str, Page], trio: Trio, lang: str) -> None:
    ui = LABELS[lang]
    for count, role in enumerate(PARTIES, start=1):
        page = pages[role]
        if role == "supervisor":  # a wrong password is refused next to the field
            sign(page, trio, "not my password", lang)
            expect(page.locator("#sign-error")).to_be_visible()
            expect(page.locator("#sign-password")).to_have_attribute("aria-invalid", "true")
        sign(page, trio, trio.party(role).password, lang)
        expect(page).to_have_url(re.compile(r"/reviews/1#signatures$"))
        signatures = page.locator("#signatures tbody tr")
        expect(signatures).to_have_count(count)
    page = pages["supervisor"]
    expect(page.locator("hgroup .status")).to_have_text(ui["locked"])
    expect(page.locator("#signatures")).to_contain_text(ui["locked_panel"])
    expect(page.locator("#signatures")).to_contain_text(ui["intact"])
    expect(page.locator("main select, form.sign-form")).to_have_count(0)  # nothing editable
    screenshot(page, f"journey-{lang}-review-locked")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_semester_review_journey(
    browser_session: BrowserSession, live_server: LiveServer, world: World, lang: str
) -> None:
    trio = world.journey_fr if lang == "fr" else world.journey_en
    assert world.block_sizes[BLOCK] == 10
    pages = open_parties(browser_session, trio, lang)
    check_dashboard(pages["supervisor"], trio, lang, percent=0, locked=False)
    pages["supervisor"].goto(trio.review_url)

    fill_in_journal(pages, trio, world, lang)
    assess_own_columns(pages, trio, world, lang)
    screenshot(pages["tutor"], f"journey-{lang}-review-assessed")
    agree_every_competency(live_server, pages, trio, world, lang)
    sign_by_all_three(pages, trio, lang)

    expected = _percent(ACQUIRED_IN_BLOCK, world.block_sizes[BLOCK])
    check_dashboard(pages["supervisor"], trio, lang, percent=expected, locked=True)
    screenshot(pages["supervisor"], f"journey-{lang}-dashboard")
    apprentice = pages["apprentice"]
    apprentice.goto(f"/apprenticeships/{trio.apprenticeship_id}")
    block_row = apprentice.locator("tbody tr").filter(has_text=BLOCK)
    expect(block_row.locator("td").first).to_have_text(
        f"{expected} % ({ACQUIRED_IN_BLOCK}/{world.block_sizes[BLOCK]})"
    )
