"""Playwright for Python driving Debian's chromium against the live server and a real worker."""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# axe-core as `make setup` installs it (npm ci in tests/browser/axe); `context.add_init_script(path=AXE)`
# puts it in every document, before the page's own scripts, and no <script> tag the CSP would stop.
AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
FAILING = ("critical", "serious")  # the impacts a test fails on
# axe on the whole document; what comes back is made small in the page.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((node) => node.target.join(" ")),
    html: v.nodes[0].html.slice(0, 160),
  }));
}"""
# Every page reports what the Content-Security-Policy blocked: chromium logs it, and the event says it too.
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) => console.error(
  `securitypolicyviolation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname}`));"""


def is_violation(message) -> bool:
    return "Content Security Policy" in message.text or message.text.startswith("securitypolicyviolation")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No {CHROMIUM}: install Debian's chromium (scripts/install-system-packages does).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests make
    # between browser steps are still plain synchronous code, so Django's guard is lifted here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_page(browser, live_server):
    """A fresh browser context per user: `open_page(width=390)` gives a phone-sized one.

    Whatever the Content-Security-Policy blocked on any of its pages fails the test (`open_page.violations`)."""
    contexts = []
    violations: list[str] = []

    def open_page(width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=live_server.url)
        context.set_default_timeout(30_000)
        contexts.append(context)
        context.add_init_script(REPORT_VIOLATIONS)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # "Remove …?" confirmations
        page.on("console", lambda message: violations.append(message.text) if is_violation(message) else None)
        return page

    open_page.violations = violations
    yield open_page
    for context in contexts:
        context.close()
    assert violations == [], "The Content-Security-Policy blocked something on a page"


def need_axe() -> Path:
    if not AXE.exists():
        pytest.fail(f"No {AXE}: run `make setup` (it runs `npm ci --prefix tests/browser/axe`).")
    return AXE


def serious_violations(page) -> list[str]:
    """axe's violations of impact serious or critical on the page as it is now: impact, rule, nodes."""
    return [
        f"{v['impact']} {v['id']} ({v['help']}) on {', '.join(v['targets'])}; the first: {v['html']}"
        for v in page.evaluate(RUN_AXE)
        if v["impact"] in FAILING
    ]


def login(page, username: str, password: str):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
