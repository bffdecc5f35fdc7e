"""Fixtures of the page tests: a live server on this test's database, and Debian's Chromium via Playwright.

Browser tests (marked `browser`) run on SQLite only: they test the pages, and the pages' services
are tested on both backends elsewhere. The plain TestClient page tests run on both backends.
"""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.clock import get_clock
from tests.conftest import FakeClock

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Installed by ./scripts/test with npm (git-ignored), not committed.
AXE = Path(__file__).resolve().parents[2] / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep browser tests to their SQLite run."""
    dropped = [item for item in items if item.get_closest_marker("browser") and "[sqlite]" not in item.name]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(db_url: str, clock: FakeClock) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free loopback port, on this test's database and clock."""
    import uvicorn

    from app.main import app

    app.dependency_overrides[get_clock] = lambda: clock
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="off", http="h11")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.dependency_overrides.pop(get_clock, None)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, shared by the browser tests of one module.

    Module scope, not session: Playwright's sync API keeps an event loop running in the main
    thread while it is open, which breaks any later test that calls asyncio.run().
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: ./scripts/test installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any, live_server: str) -> Iterator[Any]:
    """A fresh browser context (no cookies) on the live server, 1280 px wide."""
    context = chromium.new_context(
        base_url=live_server, viewport={"width": 1280, "height": 900}, timezone_id="Europe/Berlin"
    )  # not the course's zone: local times must differ
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def accessibility_problems(page: Any) -> list[str]:
    """The page's serious and critical axe-core violations (WCAG 2.x A and AA), one line each."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: ./scripts/test installs axe-core with npm")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")  # evaluated by the debugger, so the CSP allows it
    violations = page.evaluate("""async () => (await axe.run(document, {
        runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
        resultTypes: ["violations"]})).violations.map(v => ({id: v.id, impact: v.impact,
        targets: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}))""")
    return [
        f"{v['impact']}: {v['id']} at {', '.join(v['targets'])}" for v in violations if v["impact"] in BLOCKING_IMPACTS
    ]


def screenshot(page: Any, name: str) -> list[Path]:
    """Save the page at 1280 px and at 390 px wide; at 390 px nothing may overflow the window sideways.

    Every page saved is also checked with axe-core: no serious or critical violation.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = accessibility_problems(page)
    assert problems == [], f"{name}: {problems}"
    paths = []
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} overflows by {overflow} px at {width} px"
        path = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    page.set_viewport_size({"width": 1280, "height": 900})
    return paths
