"""Public pages served from memory while the data is unchanged (grants.core.page_cache)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from sqlalchemy import select

from grants.agreements.rules import AgreementTerms, issue, prepare_agreement
from grants.core import page_cache
from grants.core.dates import today as uk_today
from grants.core.extensions import db
from grants.core.models import Award, User
from grants.core.page_cache import PageCache
from tests.conftest import World, page, sign_in
from tests.test_assessment import assessed_bid, award


@pytest.fixture()
def cached(app: Flask) -> Flask:
    app.config["PUBLIC_PAGE_CACHE_ENTRIES"] = 20
    return app


@pytest.fixture()
def renders(app: Flask) -> Iterator[list[str]]:
    """The name of each template rendered, in order."""
    seen: list[str] = []

    def rendered(sender: Any, template: Any, context: Any, **extra: Any) -> None:
        seen.append(template.name)

    template_rendered.connect(rendered, app)
    yield seen
    template_rendered.disconnect(rendered, app)


def _granted(as_role: Any, client: FlaskClient, world: World) -> int:
    bid = assessed_bid(as_role, world, 2_000_00)
    assert award(as_role("officer"), bid, 2_000_00).status_code == 302
    client.post("/sign-out")
    client.get("/sign-in")  # shows, and so clears, the signed-out message
    return bid.id


@pytest.mark.parametrize("path", ["/grants-awarded", "/grants-awarded?fund=1", "/spending-over-500", "grant"])
def test_a_public_page_is_built_once_while_nothing_changes(cached: Flask, as_role: Any, client: FlaskClient,
                                                           world: World, renders: list[str], path: str) -> None:
    bid_id = _granted(as_role, client, world)
    path = f"/grants-awarded/{bid_id}" if path == "grant" else path
    first = client.get(path)
    assert first.status_code == 200 and renders
    renders.clear()
    again = client.get(path)
    assert again.status_code == 200
    assert renders == []  # served as built
    assert again.get_data() == first.get_data()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Vary"] == "Cookie" and again.headers["Cache-Control"] == "no-cache"
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]

    unchanged = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert renders == []


def test_a_change_made_through_the_rules_shows_at_once(cached: Flask, as_role: Any, client: FlaskClient,
                                                        world: World) -> None:
    bid_id = _granted(as_role, client, world)
    before = client.get(f"/grants-awarded/{bid_id}")
    assert "being prepared" in page(before).get_text(" ", strip=True)

    officer = db.session.scalar(select(User).where(User.role == "officer"))
    grant = db.session.scalar(select(Award).where(Award.bid_id == bid_id))
    agreement, problems = prepare_agreement(grant, officer, AgreementTerms(
        uk_today(), uk_today() + timedelta(days=90), "Report bikes marked each month"), uk_today())
    assert agreement is not None, problems
    issue(agreement, officer, uk_today())
    db.session.commit()

    after = client.get(f"/grants-awarded/{bid_id}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert page(after).select_one("[data-testid=special-conditions]").get_text(strip=True) == \
        "Report bikes marked each month"


def test_signed_in_visitors_and_waiting_messages_get_their_own_page(cached: Flask, as_role: Any,
                                                                    client: FlaskClient, world: World,
                                                                    renders: list[str]) -> None:
    _granted(as_role, client, world)
    anonymous = client.get("/grants-awarded")
    assert page(anonymous).select_one("[data-testid=signed-in-as]") is None

    sign_in(client, world.user("officer"))
    renders.clear()
    signed_in = client.get("/grants-awarded")
    assert renders  # built for this visitor, not taken from the cache
    assert page(signed_in).select_one("[data-testid=signed-in-as]") is not None
    assert "ETag" not in signed_in.headers

    client.post("/sign-out")  # leaves a message to show on the next page
    renders.clear()
    after_sign_out = client.get("/grants-awarded")
    assert renders
    assert "signed out" in page(after_sign_out).get_text(" ", strip=True).lower()


def test_the_cache_keeps_the_most_recently_used_pages_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: now[0])
    cache = PageCache(max_entries=2, max_age=300)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # now the most recently used
    cache.put("c", "C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")
    assert len(cache) == 2
    now[0] += 301
    assert cache.get("a") is None and cache.get("c") is None

    off = PageCache(max_entries=0)
    off.put("a", "A")
    assert off.get("a") is None
