"""Training pairs from the catalog, from logged query clicks and from a graded judgments file."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from recsys.accounts.principal import SYSTEM
from recsys.catalog.models import Interaction, Item
from recsys.service.catalog import CatalogService
from recsys.training.heads import validation_split
from recsys.training.pair_sources import (
    SourceReport,
    catalog_pairs,
    click_pairs,
    judgment_pairs,
    read_judgments,
    view_texts,
)
from tests.small_catalog import fill_small_catalog


@pytest.fixture()
def catalog(settings):
    catalog = CatalogService(settings)
    fill_small_catalog(catalog)
    catalog.add_item(SYSTEM, {"title": "Plain gift card", "category": "Gifts", "price": 5})  # no image
    yield catalog
    catalog.close()


def _ids(catalog) -> dict[str, tuple[int, str]]:
    with catalog.sessions() as session:
        return {r[1]: (r[0], r[2]) for r in session.execute(select(Item.id, Item.title, Item.external_id))}


def test_catalog_pairs_give_each_item_with_an_image_its_clip_text_then_its_title(catalog):
    pairs = catalog_pairs(catalog.store)
    assert len({p.external_id for p in pairs}) == 30 and all(p.image.exists() for p in pairs)
    shirt = [p for p in pairs if p.text.startswith("Red cotton shirt")]
    assert len(shirt) == 2 and shirt[0].external_id == shirt[1].external_id
    assert shirt[0].text.startswith("Red cotton shirt. ") and shirt[1].text == "Red cotton shirt"
    assert shirt[0].attributes == shirt[1].attributes and shirt[0].image == shirt[1].image
    items_only = catalog_pairs(catalog.store, ("item",))
    assert len(items_only) == 30 and [p.text for p in items_only] == [p.text for p in pairs if ". " in p.text]
    titles_only = catalog_pairs(catalog.store, ("title",))
    assert len(titles_only) == 30 and "Red cotton shirt" in {p.text for p in titles_only}


def test_view_texts_drop_repeats_and_refuse_unknown_views():
    assert view_texts(" Navy shirt ", "Navy shirt. Shirts, Navy Blue") == [
        "Navy shirt. Shirts, Navy Blue",
        "Navy shirt",
    ]
    assert view_texts("Gift card", "Gift card") == ["Gift card"]  # no type or attributes: clip text = title
    assert view_texts("Navy shirt", "Navy shirt. Shirts", ("title", "item")) == ["Navy shirt", "Navy shirt. Shirts"]
    with pytest.raises(ValueError, match="among item, title"):
        view_texts("a", "b", ("item", "caption"))
    with pytest.raises(ValueError, match="at least one catalog view"):
        view_texts("a", "b", ())


def test_validation_keeps_one_row_per_item_and_trains_on_every_view(catalog):
    pairs = catalog_pairs(catalog.store)
    train, val = validation_split(pairs, fraction=0.3, min_pairs=1)
    val_items = [pairs[i].external_id for i in val]
    assert val and len(val_items) == len(set(val_items))  # an image never ties with its own other view
    assert all(pairs[i].text == next(p.text for p in pairs if p.external_id == pairs[i].external_id) for i in val)
    assert not set(val_items) & {pairs[i].external_id for i in train}
    assert len(train) + len(val) < len(pairs)  # the validation items' second views are used by neither side


def test_click_pairs_take_queried_clicks_and_report_the_rest(catalog):
    ids = _ids(catalog)
    shirt, card = ids["Red cotton shirt"], ids["Plain gift card"]
    events = [
        (shirt[0], "click", "red shirt"),
        (shirt[0], "purchase", "  red shirt "),
        (shirt[0], "click", ""),
        (shirt[0], "impression", "red shirt"),
        (card[0], "click", "gift"),
    ]
    with catalog.sessions() as session, session.begin():
        session.add_all([Interaction(session_id="s", item_id=i, event=e, query=q) for i, e, q in events])
    report = SourceReport()
    pairs = click_pairs(catalog.store, report)
    assert [(p.external_id, p.text) for p in pairs] == [(shirt[1], "red shirt")] * 2
    assert report.pairs == 2 and report.skipped == {"no query (browse or 'more like this')": 1, "item has no image": 1}


def test_judgment_pairs_keep_graded_positives_of_catalog_items(catalog, tmp_path):
    ids = _ids(catalog)
    shirt, dress = ids["Red cotton shirt"][1], ids["Blue cotton dress"][1]
    path = tmp_path / "judgments.csv"
    path.write_text(
        "query,item_id,relevance\nred top," + shirt + ",4\nred top," + dress + ",1\n"
        "blue frock," + dress + ",3\nghost,no-such-item,4\n,x,4\nred top," + shirt + ",high\n"
    )
    report = SourceReport()
    pairs = judgment_pairs(catalog.store, path, 3.0, report)
    assert [(p.external_id, p.text) for p in pairs] == [(shirt, "red top"), (dress, "blue frock")]
    assert report.skipped == {
        "relevance below 3": 1,
        "item not in the catalog (or without an image)": 1,
        "empty query": 1,
        "relevance is not a number": 1,
    }


@pytest.mark.parametrize(
    "data, message",
    [
        (b"query,item\nx,y\n", "lacks column"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"query,item_id,relevance\n" + b"q,i,4\n" * 100, "limit"),
    ],
)
def test_malformed_judgment_files_are_refused_with_a_reason(data, message):
    with pytest.raises(ValueError, match=message):
        read_judgments(data, max_bytes=500)


def test_a_run_on_clicks_and_judgments_with_mined_and_uniform_negatives(catalog, tmp_path, minilm):
    from recsys import registry
    from recsys.splits import is_holdout
    from recsys.training.encoder_runs import train_encoder
    from recsys.training.run_options import EncoderRunOptions

    ids = _ids(catalog)
    with catalog.sessions() as session, session.begin():
        session.add_all(
            [
                Interaction(session_id="s", item_id=row_id, event="click", query=title.split()[0] + " top")
                for title, (row_id, _) in ids.items()
            ]
        )
    path = tmp_path / "judgments.csv"
    path.write_text("query,item_id,relevance\n" + "".join(f"{t.lower()},{ext},4\n" for t, (_, ext) in ids.items()))
    with pytest.raises(ValueError, match="by 'type' or 'item'"):
        EncoderRunOptions(log_q_by="brand")
    with pytest.raises(ValueError, match="at least one catalog view"):
        EncoderRunOptions(catalog_views=())
    with pytest.raises(ValueError, match="among item, title"):
        EncoderRunOptions(catalog_views=("item", "caption"))
    options = EncoderRunOptions(
        epochs=2,
        batch_size=8,
        lr=5e-3,
        hidden=0,
        embed_dim=16,
        hard_negatives=2,
        uniform_negatives=8,
        learn_temperature=False,
        temperature=0.1,
        log_q=True,
        log_q_by="item",
        sources=("clicks", "judgments"),
        judgments_path=str(path),
    )
    version = train_encoder(catalog.store, options, text=minilm)
    manifest = registry.read_config(registry.version_dir(catalog.settings, version))
    run = manifest["run"]
    assert run["source"] == "clicks+judgments"
    assert run["pairs"]["clicks"]["pairs"] == 30 and run["pairs"]["judgments"]["pairs"] == 30
    assert manifest["training"]["hard_negatives"] == 2 and manifest["model"]["init_temperature"] == 0.1
    assert manifest["training"]["log_q"] and run["options"]["log_q_by"] == "item"
    # The pool holds each non-held-out catalog item once, however often the pairs repeat it.
    imaged = [ext for title, (_, ext) in ids.items() if title != "Plain gift card"]
    assert manifest["metrics"]["negative_pool"] == sum(not is_holdout(ext) for ext in imaged) > 15
    assert len(manifest["metrics"]["epoch_losses"]) == 2


def test_a_run_that_unfreezes_tower_layers_goes_through_train_towers(catalog, minilm):
    from recsys import registry
    from recsys.encoders import create_encoder
    from recsys.training.encoder_runs import RunProgress, train_encoder
    from recsys.training.run_options import EncoderRunOptions

    with pytest.raises(ValueError, match="heads-only"):
        EncoderRunOptions(unfreeze_image_blocks=1, hard_negatives=1)
    seen: list[RunProgress] = []
    options = EncoderRunOptions(
        epochs=1, batch_size=8, hidden=0, embed_dim=16, unfreeze_image_blocks=1, unfreeze_text_layers=1, patience=0
    )
    version = train_encoder(catalog.store, options, text=minilm, on_progress=seen.append)
    manifest = registry.read_config(registry.version_dir(catalog.settings, version))
    assert version.startswith("towerclip-tuned-") and manifest["run"]["towers"] == "tuned"
    assert manifest["model"]["image_tuned_blocks"] == 1 and manifest["model"]["text_tuned_layers"] == 1
    assert any(p.stage == "training towers" and p.losses for p in seen) and seen[-1].stage == "saved"
    encoder = create_encoder(catalog.settings, text=minilm, version=version)
    assert encoder.encode_texts(["red shirt"]).shape == (1, 16)
