"""The vendored upstream data under tests/data: every file named, with its sha256, in its folder's SOURCE.txt."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from skynet_tui.gitops.charts import APPS
from tests.conftest import DATA
from tests.gitops_helpers import HELM_SCHEMAS, helm_validator

FILES = sorted(p for p in DATA.rglob("*") if p.is_file() and p.name != "SOURCE.txt")


def _source_note(path: Path) -> Path:
    for folder in path.parents:
        if (folder / "SOURCE.txt").is_file():
            return folder / "SOURCE.txt"
        if folder == DATA:
            break
    raise AssertionError(f"{path.relative_to(DATA)} has no SOURCE.txt in its folder or above")


def test_the_data_is_there() -> None:
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(DATA).as_posix())
def test_every_vendored_file_is_described_with_its_checksum(path: Path) -> None:
    note = _source_note(path)
    text = note.read_text()
    relative = path.relative_to(note.parent).as_posix()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert relative in text, f"{note.relative_to(DATA)} does not name {relative}"
    assert digest in text, f"{relative} differs from the copy {note.relative_to(DATA)} describes"


def test_chart_schemas_are_vendored_for_the_charts_that_ship_one() -> None:
    # validate_values skips a chart without a schema, so a schema missing here would pass silently.
    vendored = {p.parent.name for p in HELM_SCHEMAS.glob("*/values.schema.json")}
    assert vendored == {"cert-manager", "external-dns", "loki", "metallb", "traefik", "velero"}
    assert vendored <= {app.chart for app in APPS}
    assert all(helm_validator(chart) is not None for chart in vendored)
