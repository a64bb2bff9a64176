"""The publisher's identity and the public addresses of its grants, for the 360Giving files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exports.threesixty_giving import Publisher

# Where the public pages live (grants.public.routes); the files name them as full addresses.
GRANTS_PATH = "/grants-awarded"


def publisher(config: Mapping[str, Any], base_url: str) -> Publisher:
    """`base_url`: the site's public address (config PUBLIC_BASE_URL, else the address the request came to)."""
    base = (config.get("PUBLIC_BASE_URL") or base_url).rstrip("/")
    return Publisher(
        prefix=config["GRANT_ID_PREFIX"], org_id=config["PUBLISHER_ORG_ID"], name=config["PUBLISHER_NAME"],
        website=config.get("PUBLISHER_WEBSITE") or base,
        grant_url=lambda bid_id: f"{base}{GRANTS_PATH}/{bid_id}",
        programme_url=lambda fund_id: f"{base}{GRANTS_PATH}?fund={fund_id}",
    )
