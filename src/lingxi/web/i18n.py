"""All console text comes from one catalogue, `i18n/messages.json`: each key holds zh-CN and English.

One JSON file with both languages side by side keeps a missing translation visible in review, and a test
checks that every key has both and that every key a template uses exists. zh-CN is the default; the
`lx_lang` cookie (set by the language switch) picks English.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from lingxi import registry

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANG_COOKIE = "lx_lang"
CATALOGUE = Path(__file__).with_name("i18n") / "messages.json"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Key -> language -> text: the console's catalogue, then the text capabilities declare for themselves."""
    data: dict[str, dict[str, str]] = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return {**registry.messages(), **data}


def language(value: str | None) -> str:
    """A supported language code for a cookie value (anything else: the default)."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def translator(lang: str) -> Callable[[str], str]:
    """`t(key)` for one language; an unknown key shows itself, so it is noticed (and a test fails)."""
    messages = catalogue()

    def t(key: str) -> str:
        entry = messages.get(key)
        return entry.get(lang, key) if entry else key

    return t


def has(key: str) -> bool:
    return key in catalogue()
