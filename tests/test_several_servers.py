"""Several app servers behind one load balancer: two gunicorn instances on different ports share one PostgreSQL
database and one evidence folder, and nothing a person does depends on which of them answers. A session made
on one works on the other, failed sign-ins on both add up to one throttle, and a file sent to one downloads from the
other."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from grants.core.config import PROJECT_ROOT
from grants.demo import DEMO_PASSWORD

BASE = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not BASE, reason="several servers share a PostgreSQL database: needs "
                                                  "TEST_DATABASE_URL (make test-postgres sets it)")
APPLICANT = "applicant@cambridge-csp.example"
BIN = Path(sys.executable).parent
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two gunicorns (one worker each, so the two processes are the only thing shared) on one new database."""
    assert BASE is not None
    admin = make_url(BASE)
    name = f"several_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development", "SECRET_KEY": "several-servers-" + "x" * 40,
           "EVIDENCE_DIR": str(tmp_path_factory.mktemp("shared-evidence")), "WEB_CONCURRENCY": "1",
           "LOGIN_MAX_FAILURES": "3", "FLASK_APP": "wsgi.py"}
    env.pop("TEST_DATABASE_URL", None)
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([str(BIN / "flask"), *command], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    processes, addresses = [], []
    for _ in range(2):
        port = free_port()
        processes.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=PROJECT_ROOT,
            env={**env, "BIND": f"127.0.0.1:{port}"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        addresses.append(f"http://127.0.0.1:{port}")
    try:
        for address in addresses:
            wait_until_up(address)
        yield addresses
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def wait_until_up(address: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{address}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn at {address} did not start")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


class Browser:
    """One person's cookies (a load balancer sends them to whichever server answers)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def get(self, url: str) -> tuple[int, bytes, Any]:
        return self._open(urllib.request.Request(url))

    def post(self, url: str, form: dict[str, str]) -> tuple[int, bytes, Any]:
        return self._open(urllib.request.Request(url, data=urlencode(form).encode(), method="POST"))

    def post_multipart(self, url: str, fields: list[tuple[str, str]], file: tuple[str, str, bytes]) -> int:
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields]
        field, filename, data = file
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                     "Content-Type: application/pdf\r\n\r\n".encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        return self._open(request)[0]

    def _open(self, request: urllib.request.Request) -> tuple[int, bytes, Any]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:  # redirects and refusals come back as answers, not failures
            return error.code, error.read(), error.headers


def csrf_token(html: bytes) -> str:
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1).decode()


def sign_in(browser: Browser, address: str, email: str, password: str) -> int:
    _, page, _ = browser.get(f"{address}/sign-in")
    status, _, _ = browser.post(f"{address}/sign-in",
                                {"csrf_token": csrf_token(page), "email": email, "password": password})
    return status


def signed_in(browser: Browser, address: str) -> bool:
    status, page, _ = browser.get(f"{address}/bids/")
    return status == 200 and b'data-testid="signed-in-as"' in page


def test_a_session_made_on_one_server_works_on_the_other(servers: list[str]) -> None:
    first, second = servers
    browser = Browser()
    assert not signed_in(browser, second)
    assert sign_in(browser, first, APPLICANT, DEMO_PASSWORD) == 302
    assert signed_in(browser, second) and signed_in(browser, first)
    _, page, _ = browser.get(f"{second}/bids/")
    assert browser.post(f"{second}/sign-out", {"csrf_token": csrf_token(page)})[0] == 302
    assert not signed_in(browser, first)  # signing out on one ends the session on both


def test_failed_sign_ins_on_both_servers_add_up_to_one_throttle(servers: list[str]) -> None:
    first, second = servers
    email = "finance@opcc.example"
    for address in (first, second, first):  # LOGIN_MAX_FAILURES is 3 here
        assert sign_in(Browser(), address, email, "wrong password") == 200
    browser = Browser()
    # Held back on either server: the right password is not even checked until the wait is over.
    assert sign_in(browser, second, email, DEMO_PASSWORD) == 429
    assert sign_in(browser, first, email, DEMO_PASSWORD) == 429
    assert not signed_in(browser, first)


def test_a_file_sent_to_one_server_downloads_from_the_other(servers: list[str]) -> None:
    first, second = servers
    browser = Browser()
    assert sign_in(browser, first, APPLICANT, DEMO_PASSWORD) == 302
    _, listing, _ = browser.get(f"{first}/monitoring/")
    return_ids = sorted({int(n) for n in re.findall(rb'href="/monitoring/(\d+)"', listing)})
    # The demo leaves one of this applicant's returns overdue, for them to complete.
    return_id = next(n for n in return_ids if browser.get(f"{first}/monitoring/{n}/edit")[0] == 200)
    edit_url = f"{first}/monitoring/{return_id}/edit"
    _, page, _ = browser.get(edit_url)
    fields = [("csrf_token", csrf_token(page)), ("save", "Save")]
    fields += [(m.group(1).decode(), m.group(2).decode()) for m in
               re.finditer(rb'<input[^>]*name="(version)"[^>]*value="([^"]*)"', page)]
    content = b"%PDF-1.4\n% evidence sent through the first server\n%%EOF\n"
    assert browser.post_multipart(edit_url, fields, ("evidence", "receipts.pdf", content)) == 302

    _, view, _ = browser.get(f"{second}/monitoring/{return_id}")
    [evidence_path] = re.findall(rb'href="(/monitoring/evidence/\d+)"', view)
    status, data, headers = browser.get(f"{second}{evidence_path.decode()}")
    assert status == 200 and data == content
    assert "attachment" in headers["Content-Disposition"]
