"""`lingxi serve` answers on a real socket: health, the sign-in page, and no data without signing in."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .. import factories
from ..pgcluster import free_port


def test_serve_answers_health_and_the_sign_in_page_and_guards_data(tmp_path: Path) -> None:
    env = {**os.environ, "LINGXI_DATA_DIR": str(tmp_path / "data")}
    lingxi = str(Path(sys.executable).with_name("lingxi"))
    subprocess.run([lingxi, "init"], env=env, check=True, capture_output=True)
    csv = factories.write_csv(tmp_path / "c.csv", factories.customers(12))
    subprocess.run([lingxi, "load", "customers", str(csv)], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([lingxi, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # a busy 2-core machine imports and migrates slowly
        while True:
            try:
                health = urllib.request.urlopen(f"{base}/api/v1/health", timeout=1).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    stderr = server.stderr.read().decode() if server.poll() is not None and server.stderr else ""
                    raise AssertionError(f"server did not start: {stderr[-2000:]}") from None
                time.sleep(0.1)
        assert b'"ok":true' in health
        page = urllib.request.urlopen(urllib.request.Request(base + "/", headers={"Accept": "text/html"}), timeout=5)
        assert page.url.endswith("/login")  # a browser without a session is sent to sign in
        assert "灵犀" in page.read().decode()
        try:
            urllib.request.urlopen(base + "/api/v1/datasets", timeout=5)
            raise AssertionError("datasets answered without a session")
        except urllib.error.HTTPError as e:
            assert e.code == 401 and b'"ok":false' in e.read()
    finally:
        server.terminate()
        server.wait(timeout=10)
