"""National-scale benchmark: `make bench-scale` or `python -m bench.scale` (size from BENCH_BIDS, default 50,000).

For SQLite and then PostgreSQL (a throwaway server started by scripts/with-postgres.sh; skipped, with a line saying
so, when its binaries are missing) it
  1. builds the national data set on an empty database (bench/national_data.py: `flask db upgrade`, bulk inserts);
  2. counts the SQL statements each page runs, in process (printed as # comment lines);
  3. serves the app with gunicorn as production would (gunicorn.conf.py, APP_ENV=production, 2 workers, a random
     SECRET_KEY, a free port), signs in through the sign-in form as a benchmark officer and administrator, and
     times each page beside /healthz: requests per second over N requests from a few concurrent clients, and
     the 95th percentile latency. One line each:
         page <name> <database> <bids> ratio <page rps / healthz rps> p95_ms <ms>
  4. times each export builder, called as grants/finance/catalogue.py build() calls them (data in, no request),
     in a fresh subprocess, against raw write-only openpyxl writing as many rows and columns of the same values
     in another fresh subprocess, and takes the builder's peak Python memory (tracemalloc) in a second run:
         export <name> <database> <rows> ratio <export time / raw openpyxl time> peak_mb <MB>
     Each export is measured at a smaller and a larger scope, so the summary can say how its peak grows per row.
At the end it lists the targets missed and exits 0: this is a measurement, not a test.

Targets: every page at least a third of /healthz's requests per second with a p95 under 100 ms, on PostgreSQL at
50,000 bids; every export within 1.5 x raw openpyxl's time, with peak memory flat from 10,000 to 100,000 rows
(projected from the two scopes: at most twice the 10,000-row peak at 100,000 rows).

The server's sessions are set not to go idle during a long run (SESSION_IDLE_MINUTES) and its workers not to be
replaced mid-measurement (MAX_REQUESTS=0); everything else is the project's production configuration.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from bench import national_data
from bench.national_data import BENCH_EMAILS, BENCH_PASSWORD, PROJECT_ROOT
from bench.two_step import next_code

PAGE_RATIO_TARGET = 1 / 3
PAGE_P95_TARGET_MS = 100.0
EXPORT_RATIO_TARGET = 1.5
MEMORY_GROWTH_LIMIT = 2.0  # peak at 100,000 rows / peak at 10,000 rows
TARGET_BIDS = 50_000
USER_AGENT = "bench-scale/1"


# --- HTTP ---------------------------------------------------------------------------------------------------------


class Client:
    """One keep-alive connection, reopened when the server closes it."""

    def __init__(self, port: int, cookie: str = "") -> None:
        self.port = port
        self.headers = {"User-Agent": USER_AGENT, "Accept": "text/html"}
        if cookie:
            self.headers["Cookie"] = cookie
        self.conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPResponse, bytes, float]:
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
                started = time.perf_counter()
                self.conn.request(method, path, body=body, headers={**self.headers, **(headers or {})})
                response = self.conn.getresponse()
                data = response.read()
                elapsed = time.perf_counter() - started
                if response.will_close:
                    self.close()
                return response.status, response, data, elapsed
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> tuple[int, float]:
        status, _response, _data, elapsed = self.request("GET", path)
        return status, elapsed


def _session_cookie(response: http.client.HTTPResponse) -> str | None:
    for header in response.headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(header)
        if "session" in cookie:
            return f"session={cookie['session'].value}"
    return None


def sign_in(port: int, email: str, password: str) -> str:
    """A real session cookie, from the sign-in form (CSRF token and all)."""
    client = Client(port)
    status, response, body, _ = client.request("GET", "/sign-in")
    cookie = _session_cookie(response)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body) or re.search(
        rb'value="([^"]+)"[^>]*name="csrf_token"', body)
    if status != 200 or cookie is None or token is None:
        raise RuntimeError(f"sign-in page: status {status}, cookie {bool(cookie)}, token {bool(token)}")
    form = urllib.parse.urlencode({"csrf_token": token[1].decode(), "email": email, "password": password})
    status, response, body, _ = client.request(
        "POST", "/sign-in", body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    signed_in = _session_cookie(response)
    if status == 302 and signed_in and response.getheader("Location") == "/sign-in/code":
        status, response, body, _ = client.request("GET", "/sign-in/code", headers={"Cookie": signed_in})
        signed_in = _session_cookie(response) or signed_in  # the form's token is kept in the session
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
        if token is None:
            raise RuntimeError(f"security code page for {email}: status {status}")
        form = urllib.parse.urlencode({"csrf_token": token[1].decode(), "code": next_code(email)})
        status, response, body, _ = client.request(
            "POST", "/sign-in/code", body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": signed_in})
        signed_in = _session_cookie(response)
    client.close()
    if status != 302 or signed_in is None:
        raise RuntimeError(f"signing in as {email} answered {status}: {body[:300]!r}")
    return signed_in


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(url: str, workdir: Path) -> Iterator[int]:
    """gunicorn -c gunicorn.conf.py wsgi:app, as production runs it, on a free port; yields the port."""
    port = free_port()
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": url,
           "PORT": str(port), "WEB_CONCURRENCY": "2", "MAX_REQUESTS": "0", "SESSION_IDLE_MINUTES": "600",
           "LOG_LEVEL": "warning", "EVIDENCE_DIR": str(workdir / "evidence")}
    for name in ("BIND", "TRUST_PROXY", "SESSION_COOKIE_SECURE", "SMTP_HOST"):
        env.pop(name, None)
    log_path = workdir / "gunicorn.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                                cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn stopped: {log_path.read_text()[-2000:]}")
            try:
                if Client(port).get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer /healthz: {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Timing:
    requests: int
    rps: float
    p95_ms: float
    statuses: dict[int, int]


def measure(port: int, path: str, cookie: str, *, clients: int, most: int, fewest: int, seconds: float) -> Timing:
    """Requests per second over N requests from `clients` concurrent keep-alive clients, and the p95 latency.
    N is what fits in about `seconds` (from a warm-up round), between `fewest` and `most`."""
    conns = [Client(port, cookie) for _ in range(clients)]
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda c: c.get(path), conns))  # templates compiled, connections open: not measured
        warm = list(pool.map(lambda c: c.get(path), conns))
        each = max(statistics.mean(t for _s, t in warm), 1e-4)
        n = max(fewest, min(most, int(seconds * clients / each)))
        counter = itertools.count()
        lock = threading.Lock()
        latencies: list[float] = []
        statuses: Counter[int] = Counter()

        def work(client: Client) -> None:
            while next(counter) < n:
                status, elapsed = client.get(path)
                with lock:
                    latencies.append(elapsed)
                    statuses[status] += 1

        started = time.perf_counter()
        list(pool.map(work, conns))
        wall = time.perf_counter() - started
    for c in conns:
        c.close()
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
    return Timing(len(latencies), len(latencies) / wall, p95 * 1000, dict(statuses))


# --- Pages --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    role: str | None  # who signs in to see it; None for public pages


def pages(built: national_data.Built) -> list[Page]:
    try:
        from grants.assessment.queries import PAGE_SIZE as per_page
    except ImportError:  # the officers' list may page differently by now
        per_page = 50
    last = max(1, math.ceil(built.staff_visible_bids / per_page))
    late = min(500, last)
    sample = built.sample_bid_id
    return [
        Page("assess-list", "/assess/", "officer"),
        Page(f"assess-list-page-{late}", f"/assess/?page={late}", "officer"),
        Page("assess-bid", f"/assess/bids/{sample}", "officer"),
        Page("finance", "/finance/", "officer"),
        Page("monitoring-list", "/monitoring/", "officer"),
        Page("agreements-list", "/agreements/", "officer"),
        Page("grants-awarded", "/grants-awarded", None),
        Page("grant", f"/grants-awarded/{sample}", None),
        Page("spending-over-500", "/spending-over-500", None),
        Page("admin-organisations", "/admin/organisations", "admin"),
        Page("admin-users", "/admin/users", "admin"),
    ]


def count_statements(url: str, page_list: list[Page]) -> dict[str, tuple[int, int, float]]:
    """Each page once in process (Flask test client): (status, SQL statements, ms).

    Requests run outside any app context of ours: inside one, every request would share its `g`, and with it
    Flask-Login's current user."""
    from sqlalchemy import event

    from grants import create_app
    from grants.core.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    found: dict[str, tuple[int, int, float]] = {}
    count = [0]

    def counted(*_args: Any) -> None:
        count[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counted)
    try:
        clients: dict[str | None, Any] = {None: app.test_client()}
        for role in sorted({p.role for p in page_list if p.role}):
            clients[role] = app.test_client()
            answer = clients[role].post("/sign-in", data={"email": BENCH_EMAILS[role], "password": BENCH_PASSWORD})
            if answer.headers.get("Location") == "/sign-in/code":
                answer = clients[role].post("/sign-in/code", data={"code": next_code(BENCH_EMAILS[role])})
            if answer.status_code != 302:
                raise RuntimeError(f"in-process sign-in as {role} answered {answer.status_code}")
        for page in page_list:
            clients[page.role].get(page.path)  # templates compiled; not counted
            count[0] = 0
            started = time.perf_counter()
            response = clients[page.role].get(page.path)
            found[page.name] = (response.status_code, count[0], (time.perf_counter() - started) * 1000)
    finally:
        event.remove(engine, "before_cursor_execute", counted)
        engine.dispose()
    return found


def run_pages(url: str, built: national_data.Built, database: str, args: argparse.Namespace,
              workdir: Path) -> list[dict[str, Any]]:
    page_list = pages(built)
    statements = count_statements(url, page_list)
    for page in page_list:
        status, count, ms = statements[page.name]
        print(f"#   statements {page.name}: {count} (status {status}, {ms:.0f} ms in process)", flush=True)
    results: list[dict[str, Any]] = []
    with gunicorn(url, workdir) as port:
        cookies = {role: sign_in(port, BENCH_EMAILS[role], BENCH_PASSWORD)
                   for role in {p.role for p in page_list if p.role}}
        options = {"clients": args.clients, "most": args.requests, "fewest": args.min_requests,
                   "seconds": args.seconds}
        health = measure(port, "/healthz", "", **{**options, "most": max(args.requests, 2000)})
        print(f"page healthz {database} {built.bids} ratio 1.00 p95_ms {health.p95_ms:.1f}", flush=True)
        results.append({"kind": "page", "name": "healthz", "database": database, "bids": built.bids, "ratio": 1.0,
                        "p95_ms": health.p95_ms, "rps": health.rps, "statements": None, "errors": {}})
        for page in page_list:
            # /healthz just before each page, so both see the same machine (other work on it comes and goes).
            health = measure(port, "/healthz", "", **{**options, "most": max(args.requests, 2000)})
            timing = measure(port, page.path, cookies.get(page.role or "", ""), **options)
            ratio = timing.rps / health.rps
            print(f"page {page.name} {database} {built.bids} ratio {ratio:.2f} p95_ms {timing.p95_ms:.1f}",
                  flush=True)
            errors = {code: n for code, n in timing.statuses.items() if code != 200}
            if errors:
                print(f"#   {page.name}: {sum(errors.values())} of {timing.requests} answers were not 200: {errors}")
            results.append({"kind": "page", "name": page.name, "database": database, "bids": built.bids,
                            "ratio": ratio, "p95_ms": timing.p95_ms, "rps": timing.rps, "healthz_rps": health.rps,
                            "requests": timing.requests, "statements": statements[page.name][1], "errors": errors})
    return results


# --- Exports ------------------------------------------------------------------------------------------------------


def export_jobs(built: national_data.Built) -> list[dict[str, Any]]:
    """(name, scope) pairs: a smaller and a larger scope of each export, from the data that was built."""
    past = built.years[:-1] or built.years
    big = max(past, key=lambda y: built.awards_by_year.get(y, 0))
    small = min(past, key=lambda y: built.awards_by_year.get(y, 0))
    jobs = []
    for name, scopes in (
        ("grants-register", [("FY", small), ("FY", big)]),
        ("payments", [("Q1", big), ("FY", big)]),
        ("government-return-moj", [("H1", big), ("FY", small), ("FY", big)]),
        ("government-return-home-office", [("Q1", big), ("FY", small), ("FY", big)]),
        ("360giving", [("FY", big), ("all", None)]),
        ("spending-over-500", [("FY", small), ("FY", big)]),
    ):
        for period, year in scopes:
            # A government return's row holds every return of its grant in the period (one a quarter, up to four
            # a year), so its memory per row is judged between whole years only: a quarter's rows are lighter.
            series = f"{name} {period}" if name.startswith("government-return-") and period != "FY" else name
            jobs.append({"name": name, "period": period, "year": year, "series": series})
    return jobs


def _build_export(job: dict[str, Any], target: str) -> int:
    """One export, built as the app builds it: grants/finance/catalogue.py build() for finance's exports, and as
    the public routes build the 360Giving and spending files. Needs an app context."""
    from flask import current_app

    from exports.spending import build_spending
    from exports.threesixty_giving import build_360giving
    from grants.core.dates import period_named
    from grants.finance.catalogue import EXPORTS, ExportRequest, Settings, build
    from grants.public.publication import publisher
    from grants.public.queries import GrantFilters, award_span, iter_published
    from grants.public.spending_queries import spending_items

    name, year = job["name"], job["year"]
    made_at = datetime.now(UTC)
    if name == "360giving":
        span: Any = award_span() if year is None else period_named(year, "FY")
        return build_360giving(iter_published(GrantFilters(year=year)), target, period=span,
                               publisher=publisher(current_app.config, "https://grants.example/"), made_at=made_at)
    period = period_named(year, job["period"])
    assert period is not None
    if name == "spending-over-500":
        return build_spending(spending_items(year), target, period=period,
                              publisher=current_app.config["PUBLISHER_NAME"], made_at=made_at)
    source = None
    if name.startswith("government-return-"):
        source = name.removeprefix("government-return-").replace("-", "_")
        name = "government-return"
    request = ExportRequest(EXPORTS[name], period, source)
    return build(request, target, settings=Settings.from_config(current_app.config),
                 made_by="Benchmark (bench@bench.example)", made_at=made_at)


def _peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from
    the parent through fork and exec, so a child started by a large parent reports the parent's peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def export_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """In a fresh process: build once to warm up, once timed, once under tracemalloc for the peak."""
    import tracemalloc

    from grants import create_app
    from grants.core.extensions import db

    app = create_app(None, SQLALCHEMY_DATABASE_URI=spec["url"])
    with app.app_context():
        rows = _build_export(spec, spec["out"])
        db.session.remove()
        started = time.perf_counter()
        _build_export(spec, spec["out"])
        seconds = time.perf_counter() - started
        db.session.remove()
        tracemalloc.start()
        _build_export(spec, spec["out"])
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        db.session.remove()
        db.engine.dispose()
    return {"rows": rows, "seconds": seconds, "peak_mb": peak, "rss_mb": _peak_rss_mb()}


def _template(path: str, limit: int = 50) -> tuple[list[Any], list[list[Any]]]:
    """The header and first data rows of a workbook's first sheet (its data sheet)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = list(next(rows))
        body = [list(r) for r in itertools.islice(rows, limit)]
    finally:
        wb.close()
    width = len(header)
    body = [r[:width] + [None] * (width - len(r)) for r in body] or [[f"value {n}" for n in range(width)]]
    return header, body


def raw_write(path: str, header: list[Any], template: list[list[Any]], rows: int) -> None:
    """Raw write-only openpyxl: `rows` rows like the template's, text with digits made different on each row."""
    from openpyxl import Workbook

    digits = re.compile(r"\d+")
    cells = [[(1, digits.sub("{}", v.replace("{", "(").replace("}", ")"), count=1))
              if isinstance(v, str) and digits.search(v) else (0, v) for v in row] for row in template]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Data")
    ws.append(header)
    k = len(cells)
    for i in range(rows):
        ws.append([v.format(i) if varies else v for varies, v in cells[i % k]])
    wb.save(path)


def raw_worker(spec: dict[str, Any]) -> dict[str, Any]:
    import tracemalloc

    header, template = _template(spec["template"])
    raw_write(spec["out"], header, template, 100)  # warm up: imports, not what is measured
    started = time.perf_counter()
    raw_write(spec["out"], header, template, spec["rows"])
    seconds = time.perf_counter() - started
    tracemalloc.start()
    raw_write(spec["out"], header, template, spec["rows"])
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"seconds": seconds, "peak_mb": peak, "rss_mb": _peak_rss_mb(), "columns": len(header)}


def _subprocess(flag: str, spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.scale", flag, json.dumps(spec)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{flag} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_exports(url: str, built: national_data.Built, database: str, workdir: Path) -> list[dict[str, Any]]:
    results = []
    for job in export_jobs(built):
        out = str(workdir / f"{job['name']}.xlsx")
        scope = "all years" if job["year"] is None else f"{job['year']} {job['period']}"
        try:
            made = _subprocess("--export-worker", {**job, "url": url, "out": out})
            if made["rows"]:
                raw = _subprocess("--raw-worker", {"template": out, "rows": made["rows"],
                                                   "out": str(workdir / "raw.xlsx")})
            else:
                raw = {"seconds": float("nan"), "peak_mb": float("nan"), "rss_mb": float("nan"), "columns": 0}
        except RuntimeError as error:
            print(f"#   export {job['name']} ({scope}) failed: {str(error).splitlines()[-1]}", flush=True)
            results.append({"kind": "export", "name": job["name"], "database": database, "scope": scope,
                            "failed": str(error)[-500:]})
            continue
        ratio = made["seconds"] / raw["seconds"] if raw["seconds"] else float("nan")
        print(f"export {job['name']} {database} {made['rows']} ratio {ratio:.2f} peak_mb {made['peak_mb']:.1f}",
              flush=True)
        print(f"#   {job['name']} {scope}: {made['seconds'] * 1000:.0f} ms against raw openpyxl "
              f"{raw['seconds'] * 1000:.0f} ms ({raw['columns']} columns, raw peak {raw['peak_mb']:.1f} MB); "
              f"process peak RSS {made['rss_mb']:.0f} MB against {raw['rss_mb']:.0f} MB", flush=True)
        results.append({"kind": "export", "name": job["name"], "series": job["series"], "database": database,
                        "scope": scope, "rows": made["rows"], "ratio": ratio, "peak_mb": made["peak_mb"], "seconds": made["seconds"],
                        "raw_seconds": raw["seconds"], "raw_peak_mb": raw["peak_mb"], "rss_mb": made["rss_mb"]})
    return results


# --- Running ------------------------------------------------------------------------------------------------------


def run_database(database: str, url: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix=f"grants-scale-{database}-"))
    try:
        print(f"# {database}: building {args.bids:,} bids", flush=True)
        built = national_data.build(url, args.bids, quiet=not args.verbose)
        counts = ", ".join(f"{name} {count:,}" for name, count in built.counts.items())
        print(f"# {database}: built in {built.seconds:.0f} s: {counts}", flush=True)
        results = run_pages(url, built, database, args, workdir)
        if not args.skip_exports:
            results += run_exports(url, built, database, workdir)
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                   key=lambda p: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", str(p))])
    return found[-1].parent if found else None


def run_postgres(args: argparse.Namespace) -> list[dict[str, Any]]:
    """This benchmark again, for PostgreSQL only, inside scripts/with-postgres.sh (a throwaway server)."""
    if postgres_bindir() is None:
        print("# postgresql: skipped: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
              "(install the Debian package postgresql)", flush=True)
        return []
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.json"
        command = ["bash", "scripts/with-postgres.sh", sys.executable, "-m", "bench.scale", "--database",
                   "postgresql", "--results", str(results), *_passed_on(args)]
        done = subprocess.run(command, cwd=PROJECT_ROOT, env={**os.environ, "PGTEST_PORT": str(free_port())},
                              check=False)
        if done.returncode or not results.exists():
            print(f"# postgresql: the run failed (exit {done.returncode})", flush=True)
            return []
        return list(json.loads(results.read_text()))


def _passed_on(args: argparse.Namespace) -> list[str]:
    passed = ["--bids", str(args.bids), "--clients", str(args.clients), "--requests", str(args.requests),
              "--min-requests", str(args.min_requests), "--seconds", str(args.seconds)]
    return passed + ["--skip-exports"] * args.skip_exports + ["--verbose"] * args.verbose


def flatness(results: list[dict[str, Any]]) -> list[tuple[str, str, str, bool]]:
    """For each export (or series of like scopes of one) and database: how its peak grows per row between its
    smallest and largest scope, projected to 10,000 and 100,000 rows. (series, database, words, flat)."""
    found = []
    keyed: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        if r["kind"] == "export" and "rows" in r:
            keyed.setdefault((r.get("series", r["name"]), r["database"]), []).append(r)
    for (name, database), points in keyed.items():
        if len(points) < 2:  # a scope measured for its time only
            continue
        points.sort(key=lambda r: r["rows"])
        small, large = points[0], points[-1]
        if large["rows"] < 500 or large["rows"] < 1.3 * small["rows"]:
            found.append((name, database, f"not judged: {small['rows']} and {large['rows']} rows are too close "
                          "or too few", True))
            continue
        slope = (large["peak_mb"] - small["peak_mb"]) / (large["rows"] - small["rows"])
        at_10k = large["peak_mb"] + slope * (10_000 - large["rows"])
        at_100k = large["peak_mb"] + slope * (100_000 - large["rows"])
        flat = slope <= 0 or at_100k <= MEMORY_GROWTH_LIMIT * max(at_10k, 0.1)
        found.append((name, database, f"{slope * 10_000:+.1f} MB per 10,000 rows "
                      f"({small['rows']} rows {small['peak_mb']:.1f} MB, {large['rows']} rows {large['peak_mb']:.1f} MB;"
                      f" projected {at_10k:.0f} MB at 10,000 and {at_100k:.0f} MB at 100,000)", flat))
    return found


def _page_misses(r: dict[str, Any]) -> list[str]:
    why = []
    if r["ratio"] < PAGE_RATIO_TARGET:
        why.append(f"ratio {r['ratio']:.2f} < {PAGE_RATIO_TARGET:.2f}")
    if r["p95_ms"] >= PAGE_P95_TARGET_MS:
        why.append(f"p95 {r['p95_ms']:.0f} ms >= {PAGE_P95_TARGET_MS:.0f} ms")
    if r["errors"]:
        why.append(f"answers not 200: {r['errors']}")
    if not why:
        return []
    statements = f" ({r['statements']} statements)" if r.get("statements") is not None else ""
    return [f"page {r['name']} {r['database']} {r['bids']}: {', '.join(why)}{statements}"]


def _export_misses(r: dict[str, Any]) -> list[str]:
    if "failed" in r:
        return [f"export {r['name']} {r['database']} ({r['scope']}): failed"]
    if r["ratio"] > EXPORT_RATIO_TARGET:
        return [f"export {r['name']} {r['database']} {r['rows']} rows ({r['scope']}): ratio {r['ratio']:.2f} > "
                f"{EXPORT_RATIO_TARGET}"]
    return []


def summary(results: list[dict[str, Any]], bids: int) -> None:
    missed: list[str] = []
    for r in results:
        if r["kind"] == "page" and r["name"] != "healthz":
            missed += _page_misses(r)
        elif r["kind"] == "export":
            missed += _export_misses(r)
    for name, database, words, flat in flatness(results):
        if flat:
            print(f"# memory {name} {database}: {words}")
        else:
            missed.append(f"export {name} {database}: peak memory not flat: {words}")
    note = "" if bids >= TARGET_BIDS else (f" (the page targets are for PostgreSQL at {TARGET_BIDS:,} bids; this run "
                                           f"has {bids:,}, so it only shows the trend)")
    print(f"summary: {len(missed)} targets missed{note}")
    for line in missed:
        print(f"summary: missed {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description="National-scale pages and exports on SQLite and PostgreSQL")
    parser.add_argument("--bids", type=int, default=national_data.bench_bids(), help="default: BENCH_BIDS or 50000")
    parser.add_argument("--database", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--requests", type=int, default=400, help="most requests per page (default 400)")
    parser.add_argument("--min-requests", type=int, default=12, help="fewest requests per page (default 12)")
    parser.add_argument("--seconds", type=float, default=6.0, help="about how long to time each page (default 6)")
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="say how long each table took to fill")
    parser.add_argument("--results", help=argparse.SUPPRESS)
    parser.add_argument("--export-worker", help=argparse.SUPPRESS)
    parser.add_argument("--raw-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_worker:
        print(json.dumps(export_worker(json.loads(args.export_worker))))
        return 0
    if args.raw_worker:
        print(json.dumps(raw_worker(json.loads(args.raw_worker))))
        return 0

    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    if args.database == "postgresql" and args.results:  # inside scripts/with-postgres.sh
        url = os.environ["TEST_DATABASE_URL"]
        results = run_database("postgresql", url, args)
        Path(args.results).write_text(json.dumps(results))
        return 0
    if args.database in ("both", "sqlite"):
        tmp = tempfile.mkdtemp(prefix="grants-scale-db-")
        try:
            results += run_database("sqlite", f"sqlite:///{tmp}/national.db", args)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.database in ("both", "postgresql"):
        results += run_postgres(args)
    summary(results, args.bids)
    print(f"# {time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
