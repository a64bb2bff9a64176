"""gunicorn.conf.py: its settings from the environment, and a real gunicorn serving the app with it."""

from __future__ import annotations

import http.client
import os
import queue
import re
import runpy
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gunicorn.app.base import Application
from gunicorn.config import Config

from grants.core.config import PROJECT_ROOT

CONFIG_FILE = PROJECT_ROOT / "gunicorn.conf.py"
ENV_NAMES = ["BIND", "PORT", "WEB_CONCURRENCY", "THREADS", "TRUST_PROXY", "FORWARDED_ALLOW_IPS",
             "MAX_REQUESTS", "MAX_REQUESTS_JITTER", "LOG_LEVEL"]
START_TIMEOUT = 60


class _ConfigOnly(Application):
    """Gunicorn's own loader, so the values are checked by gunicorn's validators, not just read."""

    def load_config(self) -> None:
        self.load_config_from_file(str(CONFIG_FILE))

    def init(self, parser: Any, opts: Any, args: Any) -> None:  # pragma: no cover - no command line here
        return None

    def load(self) -> Any:  # pragma: no cover - never serves
        raise AssertionError("not for serving")


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Config:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return _ConfigOnly().cfg


def cores() -> int:
    return len(os.sched_getaffinity(0))


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load(monkeypatch)
    assert cfg.bind == ["127.0.0.1:8000"]
    assert cfg.workers == min(2 * cores() + 1, 8)
    assert cfg.worker_class_str == "gthread"
    assert cfg.threads == 4
    assert cfg.timeout == 30
    assert cfg.graceful_timeout == 30
    assert cfg.keepalive == 5
    assert cfg.accesslog == "-"
    assert cfg.errorlog == "-"
    assert cfg.max_requests == 1000
    assert cfg.max_requests_jitter == 100
    # Not behind a proxy: no address may claim HTTPS with X-Forwarded-Proto (gunicorn would trust 127.0.0.1).
    assert cfg.forwarded_allow_ips == []


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load(monkeypatch, BIND="0.0.0.0:9000", WEB_CONCURRENCY="3", THREADS="8", MAX_REQUESTS="500")
    assert cfg.bind == ["0.0.0.0:9000"]
    assert (cfg.workers, cfg.threads) == (3, 8)
    assert (cfg.max_requests, cfg.max_requests_jitter) == (500, 50)


def test_port_alone_stays_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load(monkeypatch, PORT="8123").bind == ["127.0.0.1:8123"]
    assert load(monkeypatch, PORT="8123", BIND="unix:/run/grants.sock").bind == ["unix:/run/grants.sock"]


def test_proxy_addresses_only_with_trust_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load(monkeypatch, TRUST_PROXY="1").forwarded_allow_ips == ["127.0.0.1", "::1"]
    assert load(monkeypatch, TRUST_PROXY="1", FORWARDED_ALLOW_IPS="10.0.0.0/8").forwarded_allow_ips == ["10.0.0.0/8"]
    assert load(monkeypatch, TRUST_PROXY="0", FORWARDED_ALLOW_IPS="10.0.0.0/8").forwarded_allow_ips == []


@pytest.mark.parametrize("name", ["WEB_CONCURRENCY", "THREADS", "PORT"])
def test_nonsense_numbers_are_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                      name: str) -> None:
    # gunicorn prints the error and exits rather than serve with a setting nobody meant.
    with pytest.raises(SystemExit):
        load(monkeypatch, **{name: "0"})
    assert f"{name} must be at least 1, not 0" in capsys.readouterr().err


def test_default_workers_are_capped() -> None:
    namespace = runpy.run_path(str(CONFIG_FILE))
    assert [namespace["default_workers"](n) for n in (1, 2, 3, 4, 64)] == [3, 5, 7, 8, 8]


def _read_lines(stream: Any, lines: queue.Queue[str], kept: list[str]) -> None:
    for line in stream:
        kept.append(line)
        lines.put(line)


@pytest.fixture()
def served_env(tmp_path: Path) -> dict[str, str]:
    """A production environment on a SQLite file migrated with `flask db upgrade`, as an operator would do it."""
    env = {key: value for key, value in os.environ.items() if key not in ENV_NAMES and key != "TEST_DATABASE_URL"}
    env.update(APP_ENV="production", SECRET_KEY=secrets.token_hex(32), FLASK_APP="wsgi.py",
               DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}")
    flask = Path(sys.executable).with_name("flask")
    done = subprocess.run([str(flask), "db", "upgrade"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=START_TIMEOUT)
    assert done.returncode == 0, done.stderr
    return env


@pytest.fixture()
def gunicorn_server(served_env: dict[str, str]) -> Iterator[tuple[int, list[str], list[str]]]:
    """gunicorn with gunicorn.conf.py on a port the kernel picks; yields (port, stdout lines, stderr lines)."""
    # One worker: the machine's cores are shared with the rest of the suite.
    env = dict(served_env, BIND="127.0.0.1:0", WEB_CONCURRENCY="1", THREADS="2")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "-c", str(CONFIG_FILE), "wsgi:app"], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err_lines: queue.Queue[str] = queue.Queue()
    out: list[str] = []
    err: list[str] = []
    readers = [threading.Thread(target=_read_lines, args=(process.stdout, queue.Queue(), out), daemon=True),
               threading.Thread(target=_read_lines, args=(process.stderr, err_lines, err), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        port = None
        deadline = time.monotonic() + START_TIMEOUT
        while port is None and time.monotonic() < deadline and process.poll() is None:
            try:
                line = err_lines.get(timeout=0.5)
            except queue.Empty:
                continue
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
            if match:
                port = int(match.group(1))
        assert port, "gunicorn did not start:\n" + "".join(err)
        yield port, out, err
    finally:
        process.terminate()
        try:
            process.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for reader in readers:
            reader.join(5)


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=START_TIMEOUT)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_gunicorn_serves_the_app(gunicorn_server: tuple[int, list[str], list[str]]) -> None:
    port, out, err = gunicorn_server
    status, body = get(port, "/healthz")
    assert (status, body) == (200, b'{"status":"ok"}\n'), "".join(err)
    status, _ = get(port, "/sign-in")
    assert status == 200, "".join(err)
    # The access log goes to standard output (accesslog "-").
    deadline = time.monotonic() + 10
    while not any("GET /healthz" in line for line in out) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any("GET /healthz" in line for line in out), "".join(out)
