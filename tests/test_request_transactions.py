"""How a request's transaction ends: COMMIT when it only read (so PostgreSQL keeps the connection's prepared
statements), ROLLBACK whenever it may have written and did not commit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text, update

from grants.core.extensions import db
from grants.core.models import Organisation
from tests.conftest import World


@pytest.fixture()
def endings(app: Flask) -> Iterator[list[str]]:
    """"commit" or "rollback" for each transaction the engine ends, in order."""
    seen: list[str] = []

    def committed(conn: Any) -> None:
        seen.append("commit")

    def rolled_back(conn: Any) -> None:
        seen.append("rollback")

    event.listen(db.engine, "commit", committed)
    event.listen(db.engine, "rollback", rolled_back)
    yield seen
    event.remove(db.engine, "commit", committed)
    event.remove(db.engine, "rollback", rolled_back)


def _route(app: Flask, path: str, view: Any) -> None:
    app.add_url_rule(path, path.strip("/"), view)


def _name(org_id: int) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Organisation.name).where(Organisation.id == org_id)) or ""


def test_a_page_that_only_reads_commits(app: Flask, client: FlaskClient, world: World,
                                        endings: list[str]) -> None:
    db.session.commit()
    endings.clear()
    assert client.get("/grants-awarded").status_code == 200
    assert endings == ["commit"]


def test_changes_left_in_the_session_are_rolled_back(app: Flask, client: FlaskClient, world: World,
                                                     endings: list[str]) -> None:
    org_id = world.csp.id
    db.session.commit()

    def dirty() -> str:
        db.session.get(Organisation, org_id).name = "Changed but not committed"  # type: ignore[union-attr]
        return "ok"

    def flushed() -> str:
        db.session.get(Organisation, org_id).name = "Flushed but not committed"  # type: ignore[union-attr]
        db.session.flush()
        db.session.scalar(select(Organisation.id))  # a read after the write
        return "ok"

    def executed() -> str:
        db.session.execute(update(Organisation).where(Organisation.id == org_id).values(name="Updated, no commit"))
        return "ok"

    def raw() -> str:
        db.session.execute(text("UPDATE organisation SET name = 'Raw, no commit' WHERE id = :id"), {"id": org_id})
        return "ok"

    for path, view in (("/t-dirty", dirty), ("/t-flushed", flushed), ("/t-executed", executed), ("/t-raw", raw)):
        _route(app, path, view)
    original = _name(org_id)
    for path in ("/t-dirty", "/t-flushed", "/t-executed", "/t-raw"):
        endings.clear()
        assert client.get(path).status_code == 200
        assert "commit" not in endings, path
        assert _name(org_id) == original, path


def test_a_request_that_fails_is_rolled_back(app: Flask, client: FlaskClient, world: World,
                                             endings: list[str]) -> None:
    db.session.commit()

    def fails() -> str:
        db.session.scalar(select(Organisation.id))
        raise RuntimeError("boom")

    _route(app, "/t-fails", fails)
    endings.clear()
    assert client.get("/t-fails").status_code == 500
    assert "commit" not in endings
