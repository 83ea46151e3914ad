"""A restart after live edits that were never merged: the saved vector base is caught up with the catalog (the
items written since its generation re-added, deleted ones removed) instead of being served stale or rebuilt."""

from __future__ import annotations

import dataclasses

import numpy as np

from recsys.accounts.principal import SYSTEM
from recsys.encoders import FUSED
from recsys.index.vector import VectorIndex
from recsys.search.types import SearchRequest
from recsys.service.taillift import TailLiftService
from tests.small_catalog import photo, small_search_service_at


def test_a_restart_catches_the_saved_base_up_with_unmerged_edits(tmp_path, monkeypatch):
    service = small_search_service_at(tmp_path / "data")
    items = service.browse().items
    edited, deleted = items[0].id, items[3].id
    service.update_item(SYSTEM, edited, {"title": "Purple silk scarf", "category": "Accessories > Scarves"})
    added = service.add_item(SYSTEM, {"title": "Orange linen dress"}, [photo((230, 120, 20))]).id
    service.delete_item(SYSTEM, deleted)
    assert service.engine.wait_idle()
    assert service.engine.holder.get().vectors.segments[1:]  # the edits are in delta segments, not in the saved base
    service.close()

    def no_rebuild(self, ids, vectors):
        raise AssertionError("the restart rebuilt the vector index")

    monkeypatch.setattr(VectorIndex, "build", no_rebuild)
    again = TailLiftService(service.settings)
    again.load_models()
    try:
        state = again.engine.holder.get()
        np.testing.assert_array_equal(state.vectors.ids(), state.table.ids)
        assert added in state.table.ids and deleted not in state.vectors.ids()
        rows = state.table.rows(np.array([edited, added]))
        fused = state.routes.rows(FUSED, rows)
        expected = fused / np.linalg.norm(fused, axis=1, keepdims=True)
        np.testing.assert_allclose(state.vectors.vectors(np.array([edited, added])), expected, atol=1e-5)
        hits = again.search(SearchRequest(text="purple silk scarf", k=3, log=False)).hits
        assert hits and hits[0].item_id == edited
    finally:
        again.close()


def test_a_loaded_vector_base_probes_the_lists_the_settings_name_now(tmp_path):
    """``RECSYS_INDEX_NPROBE`` is a search knob: a saved base loads with today's setting, not the one it was saved
    under (0 means the automatic default, ``VectorIndex(nprobe=None)``)."""
    service = small_search_service_at(tmp_path / "data")
    assert service.settings.nprobe is None and service.engine.holder.get().vectors.nprobe is None
    service.close()
    again = TailLiftService(dataclasses.replace(service.settings, index_nprobe=24))
    again.load_models()
    try:
        assert again.engine.holder.get().vectors.nprobe == 24
    finally:
        again.close()
