"""The FastAPI application: for now a health check, a datasets endpoint and a placeholder console page.

The console, access control and audit arrive with the service issue; until then the page says so.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from lingxi import __version__
from lingxi.config import Settings
from lingxi.store import Lake, connect


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="Lingxi", version=__version__, docs_url="/api/docs", openapi_url="/api/v1/openapi.json")
    store = connect(settings.resolved_database_url)
    lake = Lake(settings.lake_dir, store)

    @app.get("/api/v1/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "version": __version__}

    @app.get("/api/v1/datasets")
    def datasets() -> dict[str, Any]:
        data = [
            {
                "dataset": s.dataset,
                "version": s.version,
                "row_count": s.row_count,
                "as_of": s.as_of.isoformat() if s.as_of else None,
                "published_at": s.created_at.isoformat() + "Z",
            }
            for s in lake.snapshots()
        ]
        return {"data": data, "count": len(data)}

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        rows = "".join(
            f"<tr><td>{escape(s.dataset)}</td><td>{s.version}</td><td>{s.row_count:,}</td><td>{s.as_of or ''}</td></tr>"
            for s in lake.snapshots()
        )
        return PLACEHOLDER.format(
            version=__version__, rows=rows or '<tr><td colspan="4">尚未加载数据 / nothing loaded yet</td></tr>'
        )

    return app


PLACEHOLDER = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>灵犀 Lingxi</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:3rem;color:#1f2937}}
table{{border-collapse:collapse}}td,th{{border:1px solid #d1d5db;padding:.3rem .8rem;text-align:left}}</style></head>
<body><h1>灵犀 Lingxi <small>{version}</small></h1>
<p>控制台建设中：登录、客户视图与仪表盘将在后续版本提供。<br>
The console is being built: login, customer 360 and dashboards arrive in later releases.</p>
<h2>数据集 / Datasets</h2>
<table><tr><th>dataset</th><th>version</th><th>rows</th><th>as of</th></tr>{rows}</table>
<p><a href="/api/docs">API</a></p></body></html>
"""
