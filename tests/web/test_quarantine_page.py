"""The quarantine pages in a real browser: an analyst and the admin read them, a strategist is refused.

A rejected customers load with bad gender codes and dates (tests/api/conftest.py) gives them rows to show.
Screenshots go to test-artifacts/ (30-33); each is checked to be a full page, not an error or a blank.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import pytest

from ..api.conftest import Bank, Quarantined, quarantine_customers
from .conftest import shot
from .test_console import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def quarantined(web_bank: Bank, tmp_path_factory: pytest.TempPathFactory) -> Quarantined:
    return quarantine_customers(web_bank, tmp_path_factory.mktemp("web-quarantine"))


def rendered(page: Any, name: str) -> Path:
    """A screenshot of the whole page, checked: a PNG as wide as the window, taller than the top bar, and no
    catalogue key left untranslated on the page."""
    path = shot(page, name)
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert width == 1440 and height >= 600, (width, height)
    assert not re.search(r"\bquarantine\.[a-z_.]+\b", page.inner_text("body"))
    return path


def test_an_analyst_reads_a_load_s_quarantine_in_both_languages(
    page: Any, server: str, quarantined: Quarantined
) -> None:
    sign_in(page, server, "analyst1")
    page.click("a.nav-item[href='/quarantine']")
    page.wait_for_url(server + "/quarantine")
    assert "数据质量隔离区" in page.content()
    link = page.locator(f"a[href='/quarantine/customers?load={quarantined.load_id}']")
    assert "已拒绝" in page.get_by_test_id("quarantine-loads").inner_text()
    rendered(page, "30-quarantine-list-analyst")
    link.click()
    page.wait_for_selector("[data-testid=reasons]")
    gender = page.get_by_test_id("reason-gender-not_allowed")
    assert "9 ×5" in gender.get_by_test_id("top-values").inner_text()
    lines = gender.get_by_test_id("mapping-lines").inner_text()
    assert "第 7 行" in lines and "gender: XB" in lines and '"1": M' in lines
    assert "customers.yaml" in page.get_by_test_id("mapping-file").inner_text()
    records = page.get_by_test_id("sample-record").all_inner_texts()
    assert len(records) == 7 and all(re.search(r"name=[\u3400-\u9fff]{1,2}\*\*", r) for r in records)
    assert not any(name in page.content() for name in quarantined.names)
    rendered(page, "31-quarantine-load-analyst-zh")
    gender.get_by_role("link").click()  # only the rows with this problem
    page.wait_for_url(re.compile(r".*reason=not_allowed"))
    assert page.get_by_test_id("sample-value").all_inner_texts() == ["9"] * 5
    page.get_by_test_id("lang-switch").click()
    page.wait_for_selector("text=Most frequent values")
    assert "line 7" in page.get_by_test_id("reason-gender-not_allowed").inner_text()
    rendered(page, "32-quarantine-load-analyst-en")
    page.get_by_test_id("lang-switch").click()
    page.wait_for_selector("text=最常见的问题值")


def test_the_admin_sees_values_masked_and_a_strategist_is_refused(
    page: Any, server: str, quarantined: Quarantined
) -> None:
    sign_in(page, server, "admin1")
    page.goto(f"{server}/quarantine/customers?load={quarantined.load_id}")
    page.wait_for_selector("[data-testid=reasons]")
    assert "99999999 ×2" in page.get_by_test_id("reason-birth_date-bad_type").inner_text()
    assert "19781302" not in page.content() and not any(n in page.content() for n in quarantined.names)
    rendered(page, "33-quarantine-load-admin")
    page.locator("form[action='/logout'] button").click()
    page.wait_for_url(server + "/login")

    sign_in(page, server, "strategist1")
    entry = page.locator(".nav-item.disabled", has_text="数据接入")
    assert entry.count() == 1 and "无权限" in entry.inner_text()
    response = page.goto(server + "/quarantine")
    assert response is not None and response.status == 403
    assert "ingest:quarantine" in page.content()
