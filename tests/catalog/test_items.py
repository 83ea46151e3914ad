from datetime import datetime

import pytest

from recsys.accounts.principal import MERCHANT, SYSTEM, Principal
from recsys.catalog.validation import InvalidInput
from recsys.service.errors import NotAllowed, NotFound
from tests.catalog.bad_inputs import huge_png, jpeg, truncated_jpeg


def test_add_item_with_images_and_reviews_round_trips(service):
    reviews = [
        {"rating": 5, "title": "Great", "text": "Fits well"},
        {"rating": 3, "text": "ok"},
        {"rating": 4, "title": "", "text": "Nice colour"},
    ]
    item = service.add_item(
        SYSTEM,
        {
            "title": "Navy Shirt",
            "description": "Cotton",
            "price": "19.90",
            "category": "Apparel > Shirts",
            "reviews": reviews,
        },
        [jpeg((0, 0, 128)), jpeg((200, 0, 0), size=(80, 60))],
        merchant="acme",
    )
    got = service.get_item(item.id)
    assert got.title == "Navy Shirt" and got.price == 19.9 and got.merchant == "acme"
    assert [(i.width, i.height) for i in got.images] == [(60, 80), (80, 60)]
    assert all(i.path.exists() for i in got.images)
    assert [r.rating for r in got.reviews] == [5, 3, 4]
    assert got.rating_mean == pytest.approx(4.0)
    assert isinstance(got.created_at, datetime)


def test_same_image_bytes_are_stored_once(service):
    data = jpeg()
    a = service.add_item(SYSTEM, {"title": "A"}, [data])
    b = service.add_item(SYSTEM, {"title": "B"}, [data])
    assert service.get_item(a.id).images[0].path == service.get_item(b.id).images[0].path


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"title": ""}, "title is required"),
        ({"title": "<script>alert(1)</script>"}, "HTML"),
        ({"title": "ok", "price": "-3"}, ">= 0"),
        ({"title": "ok", "price": "cheap"}, "not a number"),
        ({"title": "ok", "reviews": [{"rating": 7, "text": "x"}]}, "1 to 5"),
        ({"title": "x" * 301}, "over the 300 limit"),
    ],
)
def test_bad_fields_are_refused_and_nothing_is_written(service, fields, message):
    with pytest.raises(InvalidInput, match=message):
        service.add_item(SYSTEM, fields, [jpeg()])
    assert service.stats()["items"] == 0


@pytest.mark.parametrize(
    "image, message",
    [
        (truncated_jpeg, "cannot be decoded"),
        (huge_png, "pixel limit"),
        (lambda: b"not an image", "not a recognised image"),
    ],
)
def test_bad_images_are_refused_and_nothing_is_written(service, image, message):
    with pytest.raises(InvalidInput, match=message):
        service.add_item(SYSTEM, {"title": "Shirt"}, [jpeg(), image()])
    assert service.stats()["items"] == 0
    assert not list(service.images.root.rglob("*.jpg"))


def test_oversized_image_file_is_refused(service):
    small = service.settings.replace(max_upload_bytes=1000)
    service.settings = small
    with pytest.raises(InvalidInput, match="over the"):
        service.add_item(SYSTEM, {"title": "Shirt"}, [jpeg(size=(400, 400))])


def test_update_edits_fields_adds_and_removes_images(service):
    item = service.add_item(SYSTEM, {"title": "Old", "price": 5}, [jpeg((1, 1, 1)), jpeg((2, 2, 2))])
    first = item.images[0].id
    updated = service.update_item(SYSTEM, item.id, {"title": "New", "price": 7.5}, [jpeg((3, 3, 3))], [first])
    assert updated.title == "New" and updated.price == 7.5
    assert first not in [i.id for i in updated.images] and len(updated.images) == 2


def test_bad_update_changes_nothing(service):
    item = service.add_item(SYSTEM, {"title": "Keep"}, [jpeg()])
    with pytest.raises(InvalidInput):
        service.update_item(SYSTEM, item.id, {"title": "<b>x</b>"})
    assert service.get_item(item.id).title == "Keep"


def test_only_the_owner_can_edit_or_delete(service):
    alice, bob = Principal("alice", MERCHANT), Principal("bob", MERCHANT)
    item = service.add_item(alice, {"title": "Mine", "reviews": [{"rating": 4, "text": "ok"}]}, [jpeg()])
    with pytest.raises(NotAllowed, match="not yours") as refused:
        service.delete_item(bob, item.id)
    assert "alice" not in str(refused.value)  # a refusal never names the owner
    with pytest.raises(NotAllowed):
        service.update_item(bob, item.id, {"title": "Hacked"})
    service.delete_item(alice, item.id)
    with pytest.raises(NotFound):
        service.get_item(item.id)
    assert service.stats()["images"] == 0 and service.stats()["reviews"] == 0


def test_browse_pages_and_filters(service):
    for n in range(30):
        service.add_item(
            SYSTEM,
            {"title": f"Shirt {n}" if n % 2 else f"Dress {n}", "category": "Tops" if n % 2 else "Dresses", "price": n},
            [jpeg((n, n, n))],
        )
    page = service.browse(page=2)
    assert page.total == 30 and page.pages == 2 and len(page.items) == 6
    assert service.browse(page=9).page == 2  # past the end: the last page
    assert service.browse(category="Dresses").total == 15
    assert service.browse(text="shirt", max_price=10).total == 5
    assert dict(service.categories()) == {"Tops": 15, "Dresses": 15}


def test_change_listeners_hear_commits(service):
    heard = []
    service.store.on_items_changed(lambda kind, ids: heard.append((kind, ids)))
    item = service.add_item(SYSTEM, {"title": "A"}, [jpeg()])
    service.delete_item(SYSTEM, item.id)
    assert heard == [("upsert", [item.id]), ("delete", [item.id])]
