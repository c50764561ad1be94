"""Rendering console pages: one Jinja2 environment (autoescaped), the catalogue, and display filters."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, Template, select_autoescape
from markupsafe import Markup

from lingxi import __version__
from lingxi.web.i18n import LANG_COOKIE, language, translator

TEMPLATES = Path(__file__).with_name("templates")


def money(value: Any) -> str:
    if value is None or value == "":
        return "–"
    return f"{float(value):,.2f}"


def rate(value: Any) -> str:
    """An exchange rate with at least four decimals and no trailing zeros past them: 7.1234, 0.047123."""
    if value is None or value == "":
        return "–"
    whole, _, fraction = f"{Decimal(str(value)):.6f}".partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(4, '0')}"


def count(value: Any) -> str:
    return "–" if value is None else f"{int(value):,}"


def when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "–" if value in (None, "") else str(value)


def json_script(value: Any) -> Markup:
    """JSON safe to place inside <script type="application/json"> (no `</script>` break-out)."""
    text = json.dumps(value, ensure_ascii=False, default=_default)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def tier_label(key: str, t: Callable[[str], str]) -> str:
    return t(f"tier.{key}")


def risk_label(key: str, t: Callable[[str], str]) -> str:
    return t("risk.unknown") if key == "unknown" else key


def code_label(value: Any, field: str, t: Callable[[str], str]) -> str:
    """The catalogue's label of a contract code (`field` is `table.column`); other values show as they are."""
    if value is None or value == "":
        return "–"
    key = f"code.{field}.{value}"
    label = t(key)
    return str(value) if label == key else label


ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
ENV.filters.update(
    money=money,
    rate=rate,
    count=count,
    when=when,
    json_script=json_script,
    tier_label=tier_label,
    risk_label=risk_label,
    code_label=code_label,
)


def render(request: Request, template: str | Template, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render `template` (a file of templates/, or a plug-in's own Template of ENV) in the request's language."""
    lang = language(request.cookies.get(LANG_COOKIE))
    chosen = template if isinstance(template, Template) else ENV.get_template(template)
    html = chosen.render(t=translator(lang), lang=lang, version=__version__, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """The HTML form of the one error shape, for browsers."""
    return render(request, "error.html", status_code=status, status=status, message=message, title="error.title")
