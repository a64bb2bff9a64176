"""The characters text may carry into any file the system makes.

One function, used on every query and form value as a request arrives (grants.core.requests) and again on
every text written to a workbook, CSV or JSON file, since records stored earlier may still hold them. It lives
here, beside the builders, because they never import the application (which would bring Flask).
"""

from __future__ import annotations

import re

# What XML 1.0 forbids: C0 controls other than tab, line feed and carriage return; surrogates (in a Python
# string a surrogate is never half of a real character: those are single code points); U+FFFE and U+FFFF.
# Also the other Unicode noncharacters (U+FDD0 to U+FDEF, the last two of every plane), which XML discourages
# and nobody types. Such a character in a cell makes the whole workbook unreadable.
_FORBIDDEN = re.compile(
    "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ud800-\\udfff\\ufdd0-\\ufdef"
    + "".join(f"\\U{plane + 0xFFFE:08x}\\U{plane + 0xFFFF:08x}" for plane in range(0, 0x110000, 0x10000))
    + "]"
)

# Spreadsheet programs read a cell typed in starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value: str) -> str:
    """`value` without the characters XML 1.0 forbids; everything else, tab and line breaks included, kept."""
    return _FORBIDDEN.sub("", value)


def starts_like_formula(text: str) -> bool:
    """Whether a spreadsheet would run `text` as a formula if it were typed into a cell."""
    return text.startswith(FORMULA_START)
