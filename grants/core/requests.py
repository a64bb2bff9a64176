"""What the application accepts from a request before any form or view sees it."""

from __future__ import annotations

from typing import IO, Any, cast

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_input_stream

from exports.text import clean_text

# Record ids are 32-bit integer columns: a larger number in a URL is simply a record that does not exist.
MAX_RECORD_ID = 2**31 - 1


def _cleaned(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


class CleanParameters(ImmutableMultiDict[str, Any]):
    """Query and form values (and their names) without the characters XML 1.0 forbids (exports.text): nobody
    types one, PostgreSQL text cannot hold NUL, and one such character in a title would make every workbook
    and open data file it appears in unreadable."""

    def __init__(self, mapping: Any = None) -> None:
        if mapping is None:
            super().__init__()
            return
        if hasattr(mapping, "items") and not isinstance(mapping, list):
            items = mapping.items(multi=True) if hasattr(mapping, "getlist") else mapping.items()
        else:
            items = mapping
        super().__init__([(_cleaned(key), _cleaned(value)) for key, value in items])


class _StreamedBody(LimitedStream):
    """A body sent without a length (chunked), read up to MAX_CONTENT_LENGTH. Werkzeug's readall stops quietly
    at the limit, so an over-long urlencoded form would be parsed cut short and could be saved so; reaching
    the limit refuses the request instead (413), as a body with a length over the limit is."""

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted:
            self.on_exhausted()  # the limit is a maximum: raises RequestEntityTooLarge
        return data


class GrantsRequest(Request):
    parameter_storage_class = CleanParameters

    @cached_property
    def stream(self) -> IO[bytes]:
        """Werkzeug's guarded input stream, with a streamed body over the limit refused rather than cut short."""
        if self.shallow:
            raise RuntimeError("This request was created with 'shallow=True', reading from the input stream is"
                               " disabled.")
        limit = self.max_content_length
        if self.content_length is None and limit is not None and "wsgi.input_terminated" in self.environ:
            return cast(IO[bytes], _StreamedBody(self.environ["wsgi.input"], limit, is_max=True))
        return get_input_stream(self.environ, max_content_length=limit)


class RecordIdConverter(IntegerConverter):
    """`<int:...>` in a route: ids beyond the column's range answer 404 instead of reaching the database."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - Werkzeug's name
        kwargs.setdefault("max", MAX_RECORD_ID)
        super().__init__(map, *args, **kwargs)
