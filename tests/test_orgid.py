"""Organisation identifiers against the org-id.guide list, and refreshing that list."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from grants.core import orgid


@pytest.mark.parametrize(("identifier", "split"), [
    ("GB-LAE-CAB", ("GB-LAE", "CAB")), ("GB-CHC-1234567", ("GB-CHC", "1234567")),
    ("CN-11-CR-91110000", ("CN-11-CR", "91110000")), ("US-CA_CR-C0806592", ("US-CA_CR", "C0806592")),
    ("gb-coh-01234567", ("GB-COH", "01234567")), ("XM-DAC-41114", ("XM-DAC", "41114")),
])
def test_identifiers_split_at_the_longest_known_prefix(identifier: str, split: tuple[str, str]) -> None:
    assert orgid.split_org_id(identifier) == split


def test_every_list_in_the_reference_file_is_accepted() -> None:
    document = json.loads(orgid.PREFIXES_FILE.read_text(encoding="utf-8"))
    assert "org-id.guide" in document["source"] and "ODbL" in document["licence"]
    for entry in document["prefixes"]:
        problem = orgid.org_id_problem(f"{entry['code']}-12345")
        assert (problem is None) != entry["deprecated"], entry["code"]
    assert len(orgid.known_prefixes()) > 700


@pytest.fixture()
def prefixes_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    copy = tmp_path / "org-id-prefixes.json"
    shutil.copy(orgid.PREFIXES_FILE, copy)
    monkeypatch.setattr(orgid, "PREFIXES_FILE", copy)
    orgid._prefixes.cache_clear()
    yield copy
    orgid._prefixes.cache_clear()


def test_refresh_reads_org_id_guides_download(app: Flask, tmp_path: Path, prefixes_copy: Path) -> None:
    download = tmp_path / "download.json"
    download.write_text(json.dumps({"lists": [
        {"code": "GB-CHC", "name": {"en": "Charity Commission"}, "deprecated": False},
        {"code": "GB-NEWREG", "name": {"en": "A register added since"}, "deprecated": False},
        {"code": "XI-GRID", "name": {"en": "GRID"}, "deprecated": True},
    ]}), encoding="utf-8")
    assert orgid.org_id_problem("GB-NEWREG-1") is not None
    result = app.test_cli_runner().invoke(args=["refresh-org-id-prefixes", "--source", str(download)])
    assert result.exit_code == 0, result.output
    assert "3 prefixes saved" in result.output
    saved = json.loads(prefixes_copy.read_text(encoding="utf-8"))
    assert saved["source"] == str(download) and [p["code"] for p in saved["prefixes"]] == ["GB-CHC", "GB-NEWREG",
                                                                                          "XI-GRID"]
    assert orgid.org_id_problem("GB-NEWREG-1") is None
    assert orgid.org_id_problem("GB-LAE-CAB") is not None  # no longer on the list


def test_refresh_refuses_a_file_that_is_not_the_download(app: Flask, tmp_path: Path, prefixes_copy: Path) -> None:
    before = prefixes_copy.read_text(encoding="utf-8")
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"grants": []}', encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["refresh-org-id-prefixes", "--source", str(wrong)])
    assert result.exit_code != 0 and "not org-id.guide's download.json" in result.output
    result = app.test_cli_runner().invoke(args=["refresh-org-id-prefixes", "--source", str(tmp_path / "missing")])
    assert result.exit_code != 0 and "Could not read" in result.output
    assert prefixes_copy.read_text(encoding="utf-8") == before
