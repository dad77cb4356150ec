"""Two tabs, one tutor: the stale tab's save is refused with a conflict message, and the level
the person picked stays in the select so nothing they did is lost."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import World
from tests.browser.helpers import LABELS, BrowserSession, browser_test, save_level, wait_for_htmx

pytestmark = browser_test


def test_stale_tab_shows_the_conflict_and_keeps_the_chosen_level(
    browser_session: BrowserSession, world: World
) -> None:
    trio = world.conflict
    first, second = world.cid("BC01-C01"), world.cid("BC01-C02")
    page_a = browser_session.page_as(trio.tutor, trio.review_url)
    page_b = page_a.context.new_page()
    page_b.goto(trio.review_url)

    save_level(page_a, "tutor", first, "3")  # page B still holds the old version

    stale_select = page_b.locator(f"#lvl-tutor-{second}")
    with page_b.expect_response(lambda r: r.url.endswith(f"/ratings/{second}")) as response:
        stale_select.select_option("4")
    assert response.value.status == 409
    messages = page_b.locator("#messages")
    expect(messages.get_by_role("alert")).to_contain_text(LABELS["fr"]["conflict"])
    expect(messages).to_contain_text(trio.tutor.full_name)  # who changed it meanwhile
    wait_for_htmx(page_b)
    expect(stale_select).to_have_value("4")  # the row was not swapped: the choice is kept
    expect(page_b.locator(f"#lvl-tutor-{first}")).to_have_value("")  # B's stale view, as is

    page_b.reload()  # nothing was overwritten: A's save stands, B's was refused
    expect(page_b.locator(f"#lvl-tutor-{first}")).to_have_value("3")
    expect(page_b.locator(f"#lvl-tutor-{second}")).to_have_value("")
