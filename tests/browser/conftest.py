"""Browser tests: Debian's Chromium driven by Playwright against a threaded live server.

Every page a test visits can be checked with axe-core (WCAG 2.2 AA rules) and for
Content-Security-Policy violations reported on the console.
"""
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import need

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    need(os.path.exists(CHROMIUM) or shutil.which("chromium") is not None, "Chromium is not installed (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def base_url():
    # Shadows pytest-playwright's own fixture, which warns under pytest 9.
    return None


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


class PageChecker:
    """Collects CSP violations and page errors, and runs axe-core on demand."""

    def __init__(self, page):
        from axe_playwright_python.sync_playwright import Axe

        self.page = page
        self.axe = Axe()
        self.console_problems: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_problems.append(f"page error: {error}"))

    def _on_console(self, message):
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.console_problems.append(text)

    def accessible(self, label: str = ""):
        results = self.axe.run(self.page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        violations = results.response["violations"]
        summary = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}" for v in violations]
        assert not violations, f"axe-core found accessibility problems on {label or self.page.url}:\n" + "\n".join(summary)
        assert not self.console_problems, f"console problems on {label or self.page.url}: {self.console_problems}"


@pytest.fixture
def check(page):
    return PageChecker(page)
