"""The console's one text catalogue: every key in both languages, every key a template uses exists."""

from __future__ import annotations

import re

from lingxi.auth.roles import Role
from lingxi.privacy.masking import UnmaskReason
from lingxi.segments import DEFAULT_TIERS
from lingxi.web.i18n import LANGUAGES, catalogue, translator
from lingxi.web.nav import sections
from lingxi.web.render import TEMPLATES

LITERAL_KEY = re.compile(r"""\bt\(\s*['"]([a-z0-9_.]+)['"]\s*\)""")


def test_every_key_has_every_language() -> None:
    missing = [(k, lang) for k, v in catalogue().items() for lang in LANGUAGES if not v.get(lang, "").strip()]
    assert not missing
    assert all(set(v) == set(LANGUAGES) for v in catalogue().values())


def test_every_key_a_template_or_the_code_uses_exists() -> None:
    used = {m for path in TEMPLATES.glob("*.html") for m in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))}
    used |= {f"role.{r.value}" for r in Role} | {f"tier.{t.code}" for t in DEFAULT_TIERS.tiers}
    used |= {f"unmask.reason.{r.value}" for r in UnmaskReason}
    used |= {key for title, items in sections() for key in (title, *(i.key for i in items), *(i.status for i in items))}
    used |= {"home.scope_all", "home.scope_branch", "home.scope_book", "nav.no_permission", "error.403", "error.404"}
    assert not sorted(used - set(catalogue()))


def test_chinese_is_the_default_and_english_differs() -> None:
    assert translator("zh-CN")("nav.home") == "首页" and translator("en")("nav.home") == "Home"
    assert translator("zh-CN")("no.such.key") == "no.such.key"


LABELLED_CODES = [
    "accounts.type",
    "accounts.status",
    "customers.status",
    "customers.gender",
    "transactions.channel",
    "transactions.category",
    "events.channel",
    "consent_events.channel",
]


def test_every_contract_code_the_console_labels_is_in_the_catalogue() -> None:
    from lingxi.schema import get_table
    from lingxi.web.render import code_label

    for field in LABELLED_CODES:
        table, column = field.split(".")
        for value in get_table(table).column(column).allowed:
            assert f"code.{field}.{value}" in catalogue(), f"no label for {field} = {value}"
    zh, en = translator("zh-CN"), translator("en")
    assert code_label("transfer_out", "transactions.category", zh) == "转出"
    assert code_label("transfer_out", "transactions.category", en) == "Transfer out"
    assert code_label("something_new", "transactions.category", zh) == "something_new"
    assert code_label(None, "transactions.category", zh) == "–"
