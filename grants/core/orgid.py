"""Organisation identifiers as org-id.guide defines them: a registered list's prefix, a hyphen, the number in it.

The prefixes are kept as reference data (grants/reference/org-id-prefixes.json, with its source and licence) so
that checking an identifier needs no network; `flask refresh-org-id-prefixes` brings the list up to date.
Where an organisation is on no register, 360Giving accepts the publisher's own code, 360G-<publisher>-<id>.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

PREFIXES_FILE = Path(__file__).resolve().parent.parent / "reference" / "org-id-prefixes.json"
ORG_ID_GUIDE_DOWNLOAD = "https://org-id.guide/download.json"

_OWN_CODE = re.compile(r"^360G-[A-Za-z0-9]+-[A-Za-z0-9][A-Za-z0-9._/-]*$")
_LOCAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


@lru_cache(maxsize=1)
def _prefixes() -> dict[str, bool]:
    """Every list code, mapped to whether org-id.guide has withdrawn (deprecated) it."""
    document = json.loads(PREFIXES_FILE.read_text(encoding="utf-8"))
    return {entry["code"]: bool(entry.get("deprecated")) for entry in document["prefixes"]}


def known_prefixes() -> frozenset[str]:
    """The codes of the lists still in use."""
    return frozenset(code for code, deprecated in _prefixes().items() if not deprecated)


def split_org_id(identifier: str) -> tuple[str, str] | None:
    """(prefix, local identifier) for an identifier on a registered list, longest prefix first, else None.

    The prefix is matched without regard to case and returned as the list writes it."""
    prefixes = {code.upper(): code for code in _prefixes()}
    parts = identifier.split("-")
    # List codes have two or three parts (GB-CHC, CN-11-CR); the local identifier may itself hold hyphens.
    for size in (3, 2):
        prefix = "-".join(parts[:size])
        local = identifier[len(prefix) + 1:]
        if len(parts) > size and prefix.upper() in prefixes and _LOCAL_ID.match(local):
            return prefixes[prefix.upper()], local
    return None


def clean_org_id(text: str | None) -> str | None:
    """Spaces removed and a known list code written as the list writes it ("gb-chc-123" -> "GB-CHC-123")."""
    cleaned = re.sub(r"\s+", "", text or "")
    if not cleaned:
        return None
    found = split_org_id(cleaned)
    if found:
        return f"{found[0]}-{found[1]}"
    if cleaned.upper().startswith("360G-"):
        return "360G-" + cleaned[5:]
    return cleaned


def is_own_code(identifier: str) -> bool:
    return bool(_OWN_CODE.match(identifier))


def org_id_problem(identifier: str) -> str | None:
    """Why `identifier` is not a usable org-id, or None."""
    if is_own_code(identifier):
        return None
    found = split_org_id(identifier)
    if found is None:
        return ("Enter an identifier that starts with the code of a list on org-id.guide, like GB-LAE-CAB, "
                "GB-CHC-1234567 or GB-COH-01234567")
    prefix, _ = found
    if _prefixes()[prefix]:
        return f"{prefix} is a withdrawn list on org-id.guide: use the organisation's identifier on a current list"
    return None


def prefixes_document(download: Mapping[str, Any], source: str, retrieved: date) -> dict[str, Any]:
    """Our reference file's content from org-id.guide's download.json ({"lists": [...]})."""
    lists = download.get("lists")
    if not isinstance(lists, list) or not lists:
        raise ValueError("The file has no \"lists\": it is not org-id.guide's download.json")
    prefixes = []
    for entry in lists:
        name = entry.get("name") or {}
        prefixes.append({
            "code": str(entry["code"]),
            "name": (name.get("en") or name.get("local") or "").strip() if isinstance(name, dict) else str(name),
            "deprecated": bool(entry.get("deprecated")),
        })
    prefixes.sort(key=lambda p: p["code"])
    return {"source": source, "licence": "Open Database License (ODbL) v1.0, org-id.guide",
            "retrieved": retrieved.isoformat(), "refresh": "flask refresh-org-id-prefixes", "prefixes": prefixes}


def save_prefixes(document: Mapping[str, Any]) -> Path:
    PREFIXES_FILE.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    _prefixes.cache_clear()
    return PREFIXES_FILE
