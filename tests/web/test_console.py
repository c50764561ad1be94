"""The console in a real browser: sign-in, dashboard charts, search, customer 360, masking per role, language.

Each test saves a screenshot under test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from ..api.conftest import Bank
from ..auth.conftest import PASSWORD
from .conftest import shot

pytestmark = pytest.mark.browser

MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


def sign_in(page: Any, server: str, username: str) -> None:
    page.goto(server + "/")
    assert page.url.endswith("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/")


def test_sign_in_page_refuses_a_wrong_password_then_signs_in(page: Any, server: str) -> None:
    page.goto(server + "/login")
    assert "灵犀" in page.content()
    shot(page, "01-login")
    page.fill("input[name=username]", "strategist1")
    page.fill("input[name=password]", "wrong password here")
    page.click("button[type=submit]")
    assert page.get_by_test_id("login-error").is_visible()
    sign_in(page, server, "strategist1")
    assert page.get_by_test_id("user").inner_text().startswith("strategist1")


def test_dashboard_draws_its_charts_for_head_office(page: Any, server: str) -> None:
    sign_in(page, server, "strategist1")
    assert page.get_by_test_id("kpi-total").inner_text() == "800"
    for chart in ("chart-tier", "chart-risk", "chart-branch"):
        page.wait_for_selector(f"[data-testid={chart}] canvas")
    assert page.locator(".nav-item.disabled").count() >= 10  # capabilities not built yet are greyed
    shot(page, "02-dashboard-strategist")


def test_search_and_customer_360_for_a_branch_rm_with_unmasking(page: Any, server: str, web_bank: Bank) -> None:
    sign_in(page, server, "rm_a")
    assert page.get_by_test_id("kpi-total").inner_text() == str(web_bank.count_a)
    page.click("a[href='/customers']")
    page.fill("[data-testid=search-input]", "C")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("[data-testid=results]")
    rows = page.locator("[data-testid=results] tbody tr")
    assert rows.count() == web_bank.count_a
    assert web_bank.branch_b not in page.locator("[data-testid=results]").inner_text()
    shot(page, "03-search-branch-rm")
    page.fill("[data-testid=search-input]", web_bank.cust_b)  # another branch's customer: nothing
    page.click("form.search button[type=submit]")
    page.wait_for_selector("[data-testid=no-results]")
    page.fill("[data-testid=search-input]", web_bank.cust_a)
    page.click("form.search button[type=submit]")
    page.click(f"a[href='/customers/{web_bank.cust_a}']")
    page.wait_for_selector("[data-testid=chart-aum] canvas")
    masked = page.get_by_test_id("profile-name").inner_text()
    assert re.fullmatch(r"[\u3400-\u9fff]{1,2}\*\*", masked)
    assert not MOBILE.search(page.content())
    shot(page, "04-customer-360-branch-rm-masked")
    page.get_by_test_id("unmask").click()
    page.wait_for_selector("[data-testid=unmask-done]")
    full = page.get_by_test_id("profile-name").inner_text()
    assert full[0] == masked[0] and "*" not in full
    shot(page, "05-customer-360-branch-rm-unmasked")
    page.goto(f"{server}/customers/{web_bank.cust_b}")
    assert "404" in page.content()


def test_a_strategist_sees_masked_data_and_no_unmask_form(page: Any, server: str, web_bank: Bank) -> None:
    sign_in(page, server, "strategist1")
    page.goto(f"{server}/customers/{web_bank.cust_b}")
    page.wait_for_selector("[data-testid=chart-aum] canvas")
    assert page.get_by_test_id("profile-name").inner_text().endswith("**")
    assert page.get_by_test_id("profile-address").inner_text().endswith("****")
    assert page.get_by_test_id("unmask").count() == 0
    shot(page, "06-customer-360-strategist")


def test_language_switch_to_english_and_back(page: Any, server: str) -> None:
    sign_in(page, server, "strategist1")
    assert "经营概览" in page.content()
    page.get_by_test_id("lang-switch").click()
    page.wait_for_selector("text=Overview")
    assert page.locator("html").get_attribute("lang") == "en"
    page.wait_for_selector("[data-testid=chart-tier] canvas")
    shot(page, "07-dashboard-english")
    page.get_by_test_id("lang-switch").click()
    page.wait_for_selector("text=经营概览")


def test_the_auditor_reads_the_audit_log(page: Any, server: str) -> None:
    sign_in(page, server, "auditor1")
    assert page.locator("a[href='/customers']").count() == 0
    page.click("a[href='/audit']")
    page.wait_for_selector("[data-testid=audit-table]")
    assert "login" in page.get_by_test_id("audit-table").inner_text()
    shot(page, "08-audit-log")


def test_the_personal_information_inventory_in_both_languages(page: Any, server: str) -> None:
    sign_in(page, server, "auditor1")  # no customer access, yet the inventory is open to every role
    page.click("a.nav-item[href='/privacy/inventory']")
    page.wait_for_url(server + "/privacy/inventory")
    assert "个人信息清单" in page.content() and page.get_by_test_id("inventory").is_visible()
    shot(page, "20-privacy-inventory-zh")
    page.get_by_test_id("lang-switch").click()
    page.wait_for_url(server + "/privacy/inventory")
    assert "Personal-information inventory" in page.content()
    shot(page, "21-privacy-inventory-en")
