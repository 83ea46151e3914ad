"""Bulk encoding on a local Ray (Ray Data, encoder actors) stores the same vectors and rows as the in-process path."""

from __future__ import annotations

import numpy as np
import pytest

ray = pytest.importorskip("ray")

from recsys.accounts.principal import SYSTEM  # noqa: E402
from recsys.catalog import repository as repo  # noqa: E402
from recsys.config import Settings  # noqa: E402
from recsys.encoders import ITEM_ROUTES, create_encoder  # noqa: E402
from recsys.encoders.ray_batch import connect  # noqa: E402
from recsys.search.indexing import encode_and_store, encode_and_store_ray  # noqa: E402
from recsys.service.catalog import CatalogService  # noqa: E402
from tests.encoders.models import COLOURS  # noqa: E402
from tests.small_catalog import photo  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    connect("local")
    yield
    ray.shutdown()


def _catalog(path, address: str) -> tuple[CatalogService, list[int]]:
    service = CatalogService(Settings.from_env({"data_dir": path, "demo_limit": 0, "ray_address": address}, environ={}))
    ids = []
    for n, (name, rgb) in enumerate(list(COLOURS.items())[:12]):
        fields = {"title": f"{name} cotton shirt {n}", "description": f"A {name} shirt", "category": "tops"}
        ids.append(service.add_item(SYSTEM, fields, [photo(rgb)] if n % 4 else []).id)  # every fourth: no photo
    return service, ids


def _rows(service: CatalogService, version: str) -> dict[str, tuple[list[int], np.ndarray]]:
    with service.sessions() as session:
        out = {}
        for route in ITEM_ROUTES:
            ids, vectors = repo.load_embeddings(session, version, route)
            out[route] = (np.asarray(ids).tolist(), vectors)
        return out


def test_ray_job_stores_the_same_vectors_and_rows_as_in_process_encoding(tmp_path, local_ray):
    here, item_ids = _catalog(tmp_path / "here", "")
    there, there_ids = _catalog(tmp_path / "ray", "local")
    assert there_ids == item_ids
    encoder = create_encoder(here.settings)
    ids, vectors = encode_and_store(here.store, encoder, item_ids, batch_size=5)
    ray_ids, ray_vectors = encode_and_store_ray(there.store, encoder, item_ids, batch_size=5, actors=2)
    assert ray_ids.tolist() == ids.tolist() == item_ids  # input order, as in-process
    for route in ITEM_ROUTES:
        np.testing.assert_allclose(ray_vectors[route], vectors[route], atol=1e-5)
    stored_here, stored_there = _rows(here, encoder.version), _rows(there, encoder.version)
    for route in ITEM_ROUTES:
        assert stored_there[route][0] == stored_here[route][0] == sorted(item_ids)
        np.testing.assert_allclose(stored_there[route][1], stored_here[route][1], atol=1e-5)
    here.close()
    there.close()


def test_an_address_that_is_neither_local_nor_ray_is_refused():
    with pytest.raises(ValueError, match="RECSYS_RAY_ADDRESS"):
        connect("http://example:8265")
    with pytest.raises(ValueError, match="in-process"):
        connect("")


def test_a_large_enough_batch_with_an_address_goes_to_ray_and_a_small_one_stays_in_process(tmp_path, local_ray):
    service, item_ids = _catalog(tmp_path / "ray", "local")
    service.store.settings = service.settings.replace(ray_min_items=len(item_ids))
    encoder = create_encoder(service.settings)
    seen: list[int] = []
    real = encoder.encode_items
    encoder.encode_items = lambda contents, features=None: seen.append(len(contents)) or real(contents, features)  # type: ignore[method-assign]
    encode_and_store(service.store, encoder, item_ids[:-1], batch_size=4)  # below the threshold: this process
    assert sum(seen) == len(item_ids) - 1
    ids, _ = encode_and_store(service.store, encoder, item_ids, batch_size=4)  # at it: the actors' copies encode
    assert ids.tolist() == item_ids and sum(seen) == len(item_ids) - 1
    assert _rows(service, encoder.version)[ITEM_ROUTES[0]][0] == sorted(item_ids)
    service.close()
