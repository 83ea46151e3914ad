"""``python -m recsys opinions ITEM_ID --json`` on the fixture catalog (in process, its own data dir)."""

from __future__ import annotations

import json

from recsys import cli
from recsys.config import get_settings
from tests.opinions.fixture_reviews import TIGHT


def test_cli_prints_the_item_summary_as_json(opinion_catalog, monkeypatch, capsys):
    catalog, _, ids = opinion_catalog
    monkeypatch.setenv("RECSYS_DATA_DIR", str(catalog.settings.data_dir))
    monkeypatch.setenv("RECSYS_DEMO_REVIEWS_PATH", str(catalog.settings.demo_reviews_path))
    get_settings.cache_clear()
    try:
        assert cli.main(["opinions", str(ids[TIGHT]), "--json"]) == 0
    finally:
        get_settings.cache_clear()
    out = json.loads(capsys.readouterr().out)
    assert out["item_id"] == ids[TIGHT] and out["reviews"] == 6
    fit = next(a for a in out["aspects"] if a["key"] == "fit")
    assert fit["verdict"] == "runs small" and fit["quotes"]
