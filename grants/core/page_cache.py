"""Public pages, rendered once per version of the data and kept in each worker's memory.

Every state change writes an audit event (grants.core.audit), so the newest audit event's id is a version of
all the data: one index lookup tells whether a page rendered earlier is still what it would render now. The
version goes in the key with the page's address and the UK date (pages that show what is due or current
change at midnight), so a cached page is never served for other data. Several workers or servers each keep
their own copy, all keyed by the one database's version, so none can serve a page another has seen replaced.

Only visitors who are not signed in are served from it (the header of a signed-in page names its user), and
only when no message is waiting to be shown to them. An entry is also dropped after MAX_AGE_SECONDS, so even
a change written without an audit event (which would be a defect) shows within minutes. The same key is the
page's ETag: a browser that asks again with If-None-Match gets 304 Not Modified without the page being built.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, make_response, request, session
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from grants.core import dates
from grants.core.extensions import db
from grants.core.models import AuditEvent

MAX_AGE_SECONDS = 300


class PageCache:
    """Rendered pages by key, the least recently used dropped beyond `max_entries`. Safe across threads."""

    def __init__(self, max_entries: int, max_age: float = MAX_AGE_SECONDS) -> None:
        self.max_entries = max_entries
        self.max_age = max_age
        self._pages: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            made, body = found
            if time.monotonic() - made > self.max_age:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return body

    def put(self, key: str, body: str) -> None:
        if self.max_entries <= 0:
            return
        with self._lock:
            self._pages[key] = (time.monotonic(), body)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


def data_version() -> int:
    """The newest audit event's id: it changes whenever any record does. One lookup on the primary key."""
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def _cache() -> PageCache:
    extensions = current_app.extensions
    if "page_cache" not in extensions:
        extensions["page_cache"] = PageCache(current_app.config["PUBLIC_PAGE_CACHE_ENTRIES"])
    cache: PageCache = extensions["page_cache"]
    return cache


def _servable() -> bool:
    return (current_app.config["PUBLIC_PAGE_CACHE_ENTRIES"] > 0 and not current_user.is_authenticated
            and not session.get("_flashes"))


def public_page(view: Callable[..., str]) -> Callable[..., Response]:
    """Serve the page `view` renders from the cache when the data has not changed since it was rendered."""

    @wraps(view)
    def cached(*args: Any, **kwargs: Any) -> Response:
        if not _servable():
            return make_response(view(*args, **kwargs))
        key = f"{data_version()}|{dates.today().isoformat()}|{request.full_path}"
        etag = hashlib.sha256(key.encode()).hexdigest()[:32]
        if request.if_none_match.contains(etag):
            response = Response(status=304)
        else:
            cache = _cache()
            body = cache.get(key)
            if body is None:
                body = view(*args, **kwargs)
                cache.put(key, body)
            response = make_response(body)
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-cache"  # a browser may keep it, but asks each time
        response.vary.add("Cookie")  # a signed-in visitor's page, at the same address, is another page
        return response

    return cached
