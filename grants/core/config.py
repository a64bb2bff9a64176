"""Configuration read from the environment, with safe development defaults."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

DEV_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def database_url(raw: str | None) -> str:
    """Normalise DATABASE_URL so PostgreSQL URLs use the psycopg 3 driver."""
    if not raw:
        instance = PROJECT_ROOT / "instance"
        instance.mkdir(exist_ok=True)
        return f"sqlite:///{instance / 'grants.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    APP_ENV = os.environ.get("APP_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SERVICE_NAME = os.environ.get("SERVICE_NAME", "OPCC Grants")
    # Public pages kept rendered per worker, by data version (grants.core.page_cache); 0 turns the cache off.
    PUBLIC_PAGE_CACHE_ENTRIES = _int("PUBLIC_PAGE_CACHE_ENTRIES", 200)
    PUBLISHER_NAME = "Office of the Police and Crime Commissioner for Cambridgeshire and Peterborough"
    PUBLISHER_ORG_ID = os.environ.get("PUBLISHER_ORG_ID", "360G-opcccambs-OPCC")
    # 360Giving publisher prefix for grant identifiers.
    GRANT_ID_PREFIX = os.environ.get("GRANT_ID_PREFIX", "360G-opcccambs")
    # The site's public address, used in the open data's links (default: the address a request came to).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
    PUBLISHER_WEBSITE = os.environ.get("PUBLISHER_WEBSITE", "")

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    PREFERRED_URL_SCHEME = "http"
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
    SESSION_ABSOLUTE_HOURS = _int("SESSION_ABSOLUTE_HOURS", 12)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=SESSION_ABSOLUTE_HOURS)
    # Sign-in throttling (grants/auth/throttle.py): free failures per account from one client address,
    # per client address over all accounts, and per account from anywhere; then waits that double up to
    # LOGIN_LOCKOUT_MINUTES (a minute, LOGIN_ACCOUNT_MAX_WAIT_SECONDS, for the account from anywhere).
    LOGIN_MAX_FAILURES = _int("LOGIN_MAX_FAILURES", 5)
    LOGIN_ADDRESS_MAX_FAILURES = _int("LOGIN_ADDRESS_MAX_FAILURES", 20)
    LOGIN_ACCOUNT_MAX_FAILURES = _int("LOGIN_ACCOUNT_MAX_FAILURES", 20)
    LOGIN_ACCOUNT_MAX_WAIT_SECONDS = _int("LOGIN_ACCOUNT_MAX_WAIT_SECONDS", 60)
    LOGIN_LOCKOUT_MINUTES = _int("LOGIN_LOCKOUT_MINUTES", 15)
    RESET_MAX_REQUESTS = _int("RESET_MAX_REQUESTS", 5)
    # The name authenticator apps show beside the codes.
    TOTP_ISSUER = os.environ.get("TOTP_ISSUER", "OPCC Grants")
    PASSWORD_RESET_HOURS = _int("PASSWORD_RESET_HOURS", 2)
    TRUST_PROXY = os.environ.get("TRUST_PROXY", "0") == "1"

    # Email: with no SMTP_HOST, messages stay in the outbox table only.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = _int("SMTP_PORT", 587)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "1") == "1"
    MAIL_FROM = os.environ.get("MAIL_FROM", "grants@opcc.example")

    # No payment in advance of need: at most this share of a grant (0 to 100) may be due in its first 30 days.
    PAYMENT_MAX_UPFRONT_PERCENT = min(max(_int("PAYMENT_MAX_UPFRONT_PERCENT", 50), 0), 100)

    # Evidence sent with monitoring returns: kept outside the web root, served only to those who may see it.
    EVIDENCE_DIR = os.environ.get("EVIDENCE_DIR", str(PROJECT_ROOT / "instance" / "evidence"))
    EVIDENCE_MAX_MB = _int("EVIDENCE_MAX_MB", 10)
    # The largest request body: by default three evidence files at their limit plus 1 MB for the form itself.
    # Never below one file at the limit plus that 1 MB, so a file the return page accepts is never refused
    # whole. A bigger body is answered 413, never read past the limit (see grants/core/requests.py).
    MAX_REQUEST_MB = max(_int("MAX_REQUEST_MB", EVIDENCE_MAX_MB * 3 + 1), EVIDENCE_MAX_MB + 1)
    MAX_CONTENT_LENGTH = MAX_REQUEST_MB * 1024 * 1024


class ProductionConfig(Config):
    APP_ENV = "production"
    SESSION_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


class TestConfig(Config):
    TESTING = True
    # Evidence written by tests goes to a throwaway folder, never the instance folder.
    EVIDENCE_DIR = os.environ.get("TEST_EVIDENCE_DIR", str(Path(tempfile.gettempdir()) / "grants-test-evidence"))
    WTF_CSRF_ENABLED = False
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL") or "sqlite://")
    LOGIN_MAX_FAILURES = 5
    # Off for tests that set up records directly, without the audit events a cached page is keyed by;
    # tests/test_page_cache.py turns it on and changes records through the rules, as the service does.
    PUBLIC_PAGE_CACHE_ENTRIES = 0


def config_for(env: str | None) -> type[Config]:
    return {"production": ProductionConfig, "testing": TestConfig}.get(env or "", Config)
