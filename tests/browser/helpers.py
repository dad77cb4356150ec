"""Helpers for the browser tests: the browser session, login, htmx saves, screenshots, axe."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from app.config import PROJECT_ROOT

if TYPE_CHECKING:
    from tests.browser.conftest import Person

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; Playwright never downloads a browser
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_DIR = PROJECT_ROOT / "var" / "screenshots"
AXE_JS = PROJECT_ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
AXE_BLOCKING_IMPACTS = ("serious", "critical")
TIMEOUT_MS = 10_000

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=(
        f"Debian's Chromium is not installed ({CHROMIUM} is missing): run `make test` as root, "
        "which installs it, or `apt-get install chromium chromium-driver`"
    ),
)
browser_test = [pytest.mark.browser, needs_chromium]

# What the tests read on the pages, per language.
LABELS = {
    "fr": {
        "review_heading": "Évaluation du semestre 1",
        "sign_button": "Signer le contenu convenu",
        "dashboard_heading": "Tableau de bord des promotions",
        "saved": "Enregistré.",
        "agreed_saved": "Niveau convenu enregistré.",
        "locked": "signée et verrouillée",
        "locked_panel": "Signée par les trois parties et verrouillée",
        "intact": "Vérification : intacte",
        "conflict": "modifiée entre-temps",
        "level_4": "Maîtrisé",
        "not_observed": "Non observé",
        "save_draft": "Enregistrer comme brouillon",
        "submit_situation": "Soumettre à mon tuteur",
        "submitted": "soumise",
        "acknowledge": "Valider",
        "acknowledged": "validée",
    },
    "en": {
        "review_heading": "Semester 1 review",
        "sign_button": "Sign the agreed content",
        "dashboard_heading": "Cohort dashboard",
        "saved": "Saved.",
        "agreed_saved": "Agreed level saved.",
        "locked": "signed and locked",
        "locked_panel": "Signed by all three parties and locked",
        "intact": "Verification: intact",
        "conflict": "changed meanwhile",
        "level_4": "Mastered",
        "not_observed": "Not observed",
        "save_draft": "Save as draft",
        "submit_situation": "Submit to my tutor",
        "submitted": "submitted",
        "acknowledge": "Acknowledge",
        "acknowledged": "acknowledged",
    },
}


class BrowserSession:
    """One test's browser contexts (one per person, so cookies never mix). Collects CSP
    violations and uncaught page errors; :meth:`close` returns them."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.problems: list[str] = []

    def new_page(self, *, bypass_csp: bool = False) -> Page:
        context = self.browser.new_context(
            base_url=self.base_url,
            locale="fr-FR",
            viewport={"width": 1280, "height": 900},
            bypass_csp=bypass_csp,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on("page", self._watch)
        self.contexts.append(context)
        return context.new_page()

    def page_as(self, person: Person, next_path: str = "/") -> Page:
        page = self.new_page()
        login(page, person, next_path)
        return page

    def _watch(self, page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                self.problems.append(f"CSP violation on {page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"JS error on {page.url}: {error}"))

    def close(self) -> list[str]:
        for context in self.contexts:
            context.close()
        return self.problems


def login(page: Page, person: Person, next_path: str = "/") -> None:
    """Sign in through the login form, as a person would."""
    page.goto(f"/login?next={quote(next_path)}")
    page.fill("#email", person.email)
    page.fill("#password", person.password)
    page.locator("form:has(#password)").get_by_role("button").click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")
    expect(page.locator("footer")).to_contain_text(person.full_name)


def switch_language(page: Page, lang: str) -> None:
    """Press the header's language button and wait for the page to come back translated."""
    name = "English" if lang == "en" else "Français"
    page.locator("header").get_by_role("button", name=name).click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def wait_for_htmx(page: Page) -> None:
    """Wait until htmx has finished every request, swap and settle on the page."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def save_level(page: Page, source: str, competency_id: int, value: str) -> None:
    """Change a level select on the review page; htmx posts it and swaps the row in place.

    ``source`` is the column (apprentice, tutor, supervisor or agreed)."""
    select = page.locator(f"#lvl-{source}-{competency_id}")
    old_row = page.locator(f"tr#c{competency_id}").element_handle()
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(f"/ratings/{competency_id}")
    ) as response_info:
        select.select_option(value)
    response = response_info.value
    assert response.status == 200, f"saving {source} {competency_id}: {response.status}"
    old_row.wait_for_element_state("hidden")  # the old row left the DOM: swapped, not reloaded
    expect(page.locator(f"tr#c{competency_id}")).to_have_count(1)
    expect(select).to_have_value(value)
    wait_for_htmx(page)


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


@dataclass(frozen=True)
class AxeResult:
    violations: list[dict[str, Any]]
    incomplete: list[dict[str, Any]]  # what axe could not decide: worth a human look

    @property
    def blocking(self) -> list[dict[str, Any]]:
        return [v for v in self.violations if v["impact"] in AXE_BLOCKING_IMPACTS]


def run_axe(page: Page) -> AxeResult:
    """Inject the vendored axe-core and run it on the whole page.

    ``add_script_tag`` injects an inline script, which the app's CSP (script-src 'self')
    refuses: the page's context must be opened with ``bypass_csp=True``."""
    page.add_script_tag(path=AXE_JS)
    result: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations', 'incomplete']})"
    )
    return AxeResult(result["violations"], result["incomplete"])


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}] {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:10]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    at {target}: {_squash(node.get('failureSummary', ''))}")
        if len(v["nodes"]) > 10:
            lines.append(f"    … and {len(v['nodes']) - 10} more nodes")
    return "\n".join(lines)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:300]
