"""A destructive button swaps its confirmation step in place (htmx, under the CSP), which
takes the focus; cancelling leaves everything as it was."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import World
from tests.browser.helpers import BrowserSession, browser_test, wait_for_htmx

pytestmark = browser_test


def test_deactivate_shows_the_step_in_place_and_cancel_changes_nothing(
    browser_session: BrowserSession, world: World
) -> None:
    tutor = world.showcase.party("tutor")
    page = browser_session.page_as(world.admin, f"/admin/users/{tutor.id}")
    page.get_by_role("button", name="Désactiver le compte…").click()
    wait_for_htmx(page)
    access = page.locator("#access")
    expect(access.get_by_role("heading", name="Désactiver le compte ?")).to_be_focused()
    expect(access).to_contain_text(f"#{world.showcase.apprenticeship_id} ")
    expect(access.get_by_role("checkbox")).to_have_count(1)
    assert page.url.endswith(f"/admin/users/{tutor.id}")  # swapped, not navigated
    access.get_by_role("button", name="Annuler").click()
    page.wait_for_url(f"**/admin/users/{tutor.id}")
    expect(page.get_by_role("button", name="Désactiver le compte…")).to_be_visible()
    assert browser_session.problems == []
