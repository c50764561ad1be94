"""A real uvicorn server on 127.0.0.1 over the small synthetic bank, and Debian's Chromium driven by Playwright.

The browser tests are skipped (with the reason) only when /usr/bin/chromium is missing;
scripts/ensure-test-deps.sh installs it for `make test`. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from lingxi.api.app import create_app

from ..api.conftest import Bank, build_bank
from ..auth.conftest import FAST
from ..pgcluster import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason="/usr/bin/chromium is missing: run scripts/ensure-test-deps.sh (Debian `chromium`)")
    for item in items:
        if "tests/web/" in str(item.fspath) and "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def web_bank(tmp_path_factory: pytest.TempPathFactory) -> Bank:
    return build_bank(tmp_path_factory.mktemp("webbank"))


@pytest.fixture(scope="session")
def server(web_bank: Bank) -> Iterator[str]:
    """The console at http://127.0.0.1:<port>, served by uvicorn in a thread of this process."""
    app = create_app(web_bank.settings, policy=FAST)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    yield tab
    context.close()


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
