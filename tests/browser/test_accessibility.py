"""axe-core on the main pages: no violation of impact "serious" or "critical".

Adding a page is one line in ``AXE_PAGES``: a name (also the screenshot's), who signs in
(None for anonymous) and the URL, with ``{appr}`` for the showcase apprenticeship's id and
``{locked}`` for the apprenticeship whose semester 1 is signed and locked, ``{tutor}`` for the
showcase apprenticeship's tutor.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.browser.conftest import World
from tests.browser.helpers import (
    BrowserSession,
    browser_test,
    describe_violations,
    login,
    run_axe,
    screenshot,
)

pytestmark = browser_test


@dataclass(frozen=True)
class AxePage:
    name: str
    who: str | None  # "apprentice", "tutor", "supervisor" (showcase trio), "admin" or None
    url: str


AXE_PAGES = [
    AxePage("login", None, "/login"),
    AxePage("forgot-password", None, "/password/forgot"),
    AxePage("apprentice-home", "apprentice", "/apprenticeships/{appr}"),
    AxePage("review", "tutor", "/apprenticeships/{appr}/reviews/1"),
    AxePage("review-locked", "supervisor", "/apprenticeships/{locked}/reviews/1"),
    AxePage("tutor-home", "tutor", "/"),
    AxePage("supervisor-dashboard", "supervisor", "/dashboard"),
    AxePage("journal", "apprentice", "/apprenticeships/{appr}/journal"),
    AxePage("situation-form", "apprentice", "/apprenticeships/{appr}/journal/new"),
    AxePage("admin-users", "admin", "/admin/users"),
    AxePage("admin-import", "admin", "/admin/import"),
    AxePage("admin-deactivate-step", "admin", "/admin/users/{tutor}/deactivate"),
    AxePage("review-reopen-step", "admin", "/apprenticeships/{locked}/reviews/1/reopen"),
    AxePage("english", "apprentice", "/apprenticeships/{appr}/english"),
    AxePage("mobility", "apprentice", "/apprenticeships/{appr}/mobility"),
]


@pytest.mark.parametrize("target", AXE_PAGES, ids=lambda p: p.name)
def test_page_has_no_serious_accessibility_violation(
    browser_session: BrowserSession, world: World, target: AxePage
) -> None:
    # axe is injected as an inline script, which the app's CSP (script-src 'self') refuses:
    # this context alone bypasses the CSP. The journey tests run with the CSP enforced.
    page = browser_session.new_page(bypass_csp=True)
    url = target.url.format(
        appr=world.showcase.apprenticeship_id,
        locked=world.locked.apprenticeship_id,
        tutor=world.showcase.party("tutor").id,
    )
    if target.who == "admin":
        login(page, world.admin, url)
    elif target.who:
        trio = world.locked if "{locked}" in target.url else world.showcase
        login(page, trio.party(target.who), url)
    else:
        page.goto(url)
    assert page.url.endswith(url), f"expected {url}, landed on {page.url}"
    screenshot(page, target.name)
    result = run_axe(page)
    for kind, items in (("violations", result.violations), ("to check by hand", result.incomplete)):
        if items:
            print(f"axe on {target.name} ({url}), {kind}:\n{describe_violations(items)}")
    assert not result.blocking, (
        f"axe found serious/critical violations on {target.name} ({url}):\n"
        + describe_violations(result.blocking)
    )
