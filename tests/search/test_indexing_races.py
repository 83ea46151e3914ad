"""Encoding races a merchant's delete: vectors of an item deleted mid-encoding are dropped, not a failed job."""

from __future__ import annotations

from recsys.accounts.principal import SYSTEM
from recsys.catalog import repository as repo
from recsys.config import Settings
from recsys.encoders import FUSED, create_encoder
from recsys.search.indexing import encode_and_store
from recsys.service.catalog import CatalogService
from tests.small_catalog import photo


def test_an_item_deleted_while_it_is_encoded_gets_no_vectors_and_the_rest_are_stored(tmp_path):
    service = CatalogService(Settings.from_env({"data_dir": tmp_path / "data", "demo_limit": 0}, environ={}))
    kept = service.add_item(SYSTEM, {"title": "Red cotton shirt"}, [photo((200, 20, 20))]).id
    gone = service.add_item(SYSTEM, {"title": "Blue cotton shirt"}, [photo((20, 20, 200))]).id
    encoder = create_encoder(service.settings)
    real_encode = encoder.encode_items

    def encode_then_delete(contents, features=None):
        vectors = real_encode(contents, features)
        service.delete_item(SYSTEM, gone)  # the merchant's delete lands between the read and the write
        return vectors

    encoder.encode_items = encode_then_delete  # type: ignore[method-assign]
    ids, vectors = encode_and_store(service.store, encoder, [kept, gone])
    assert ids.tolist() == [kept] and vectors[FUSED].shape[0] == 1
    with service.sessions() as session:
        stored, _ = repo.load_embeddings(session, encoder.version, FUSED)
    assert stored.tolist() == [kept]
    service.close()
