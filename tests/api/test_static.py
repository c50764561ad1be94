"""The vendored front-end libraries ship inside the package with their licences (no build step at install)."""

from __future__ import annotations

from lingxi.api.app import STATIC


def test_vendored_libraries_and_their_licences_are_in_the_package() -> None:
    for name in ("htmx/htmx.min.js", "htmx/LICENSE", "echarts/echarts.min.js", "echarts/LICENSE", "echarts/NOTICE"):
        assert (STATIC / "vendor" / name).stat().st_size > 0, name
    assert "Apache License" in (STATIC / "vendor" / "echarts" / "LICENSE").read_text(encoding="utf-8")


def test_static_files_are_served_without_signing_in(anonymous: object) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(anonymous, TestClient)
    r = anonymous.get("/static/vendor/htmx/htmx.min.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
