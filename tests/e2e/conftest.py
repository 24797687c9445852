"""A real browser (Debian's Chromium via Playwright) against the real site and form server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pelican import Pelican
from pelican.plugins.sitemap import sitemap
from pelican.settings import read_settings
from werkzeug.serving import make_server

from formserver import create_app
from tests.conftest import ROOT, free_port

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site, built as `make build` does, with forms posting to the same origin."""
    output = tmp_path_factory.mktemp("e2e-site")
    sitemap.generator._main_pelican = None
    settings = read_settings(
        str(ROOT / "pelicanconf.py"),
        override={
            "OUTPUT_PATH": str(output),
            "CACHE_CONTENT": False,
            "LOAD_CONTENT_CACHE": False,
        },
    )
    Pelican(settings).run()
    return output


@pytest.fixture
def server(built_site: Path, tmp_path: Path, smtp) -> Iterator[tuple[str, object]]:
    """The form server serving the built site on one origin, mail to the SMTP sink."""
    _, smtp_port = smtp
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(
        {
            "SECRET_KEY": "e2e-test-secret-key-not-for-production",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}",
            "QUEUE_URL": f"sqlite:///{tmp_path / 'queue.db'}",
            "SERVE_SITE": True,
            "SITE_OUTPUT_PATH": str(built_site),
            "SITE_URL": base,
            "PUBLIC_URL": base,
            "MAIL_PORT": smtp_port,
            "RATELIMIT_ENABLED": False,
            # A driven browser fills a form in milliseconds: the time-trap would fake its
            # success. test_time_trap.py turns it back on where it is the subject.
            "FORM_MIN_FILL_SECONDS": 0,
        }
    )
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base, app
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    """A page with JavaScript on; a screenshot is kept in tests/artifacts/ if the test fails."""
    js = getattr(request, "param", True)
    context = browser.new_context(java_script_enabled=js, accept_downloads=True)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report
