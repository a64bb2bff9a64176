"""What the application accepts from a request before any form or view sees it."""

from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

# Record ids are 32-bit integer columns: a larger number in a URL is simply a record that does not exist.
MAX_RECORD_ID = 2**31 - 1


def _without_nul(value: Any) -> Any:
    return value.replace("\x00", "") if isinstance(value, str) else value


class TextWithoutNul(ImmutableMultiDict[str, Any]):
    """Query and form values with NUL characters removed: nobody types one, and PostgreSQL text cannot hold it."""

    def __init__(self, mapping: Any = None) -> None:
        if mapping is None:
            super().__init__()
            return
        if hasattr(mapping, "items") and not isinstance(mapping, list):
            items = mapping.items(multi=True) if hasattr(mapping, "getlist") else mapping.items()
        else:
            items = mapping
        super().__init__([(_without_nul(key), _without_nul(value)) for key, value in items])


class GrantsRequest(Request):
    parameter_storage_class = TextWithoutNul


class RecordIdConverter(IntegerConverter):
    """`<int:...>` in a route: ids beyond the column's range answer 404 instead of reaching the database."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - Werkzeug's name
        kwargs.setdefault("max", MAX_RECORD_ID)
        super().__init__(map, *args, **kwargs)
