"""The service API under careless or hostile calls: every bad argument is an ``InvalidInput`` (or ``NotFound``
for an item id that names no item) with a reason, never a raw TypeError, AttributeError or IntegrityError, and
nothing is written."""

from __future__ import annotations

import pytest

from recsys.accounts.principal import SYSTEM
from recsys.catalog.validation import InvalidInput
from recsys.service.errors import NotFound
from tests.catalog.bad_inputs import jpeg, write_csv


@pytest.mark.parametrize(
    "fields, reason",
    [
        (None, "an item must be an object of fields, not empty"),
        (["title", "x"], "an item must be an object of fields, not a list"),
        ({"title": "Shirt", "prize": 10}, "unknown field(s) 'prize'"),
        ({"title": "Shirt", "attributes": "red"}, "attributes must be an object"),
        ({"title": "Shirt", "attributes": {"": "red"}}, "attribute name is required"),
        ({"title": "Shirt", "reviews": [{"rating": 5, "source": "demo:similar-garment"}]}, "unknown field(s) 'source'"),
        ({"title": "Shirt", "currency": "US$"}, "three-letter code"),
    ],
)
def test_add_item_refuses_bad_fields(service, fields, reason):
    with pytest.raises(InvalidInput) as caught:
        service.add_item(SYSTEM, fields)
    assert any(reason in p for p in caught.value.problems), caught.value.problems
    assert service.stats()["items"] == 0


@pytest.mark.parametrize(
    "images, reason",
    [
        (jpeg(), "images must be a list"),
        ("photo.jpg", "images must be a list"),
        ([123], "must be a file path or bytes"),
        ([None], "must be a file path or bytes"),
    ],
    ids=["bytes", "path", "number", "none"],
)
def test_add_item_refuses_images_that_are_not_a_list_of_files(service, images, reason):
    with pytest.raises(InvalidInput, match=reason):
        service.add_item(SYSTEM, {"title": "Shirt"}, images)
    assert service.stats()["items"] == 0


def test_an_image_path_that_is_a_directory_is_refused(service, tmp_path):
    with pytest.raises(InvalidInput, match="cannot be read"):
        service.add_item(SYSTEM, {"title": "Shirt"}, [tmp_path])


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"external_id": "other"}, "cannot be changed"),
        ({"reviews": [{"rating": 5}]}, "add_review"),
        ({"attributes": ["red"]}, "attributes must be an object"),
        ({"title": None}, "title is required"),
    ],
)
def test_update_item_refuses_and_changes_nothing(service, change, reason):
    item = service.add_item(SYSTEM, {"title": "Keep", "price": 5}, [jpeg()])
    with pytest.raises(InvalidInput, match=reason):
        service.update_item(SYSTEM, item.id, change)
    after = service.get_item(item.id)
    assert (after.title, after.price, after.external_id, len(after.images)) == ("Keep", 5, item.external_id, 1)


@pytest.mark.parametrize(
    "remove, reason",
    [
        ([999], "not images of item"),
        ("1", "must be a list of image ids"),
        ([1.5], "not a whole number"),
        ([None], "not a whole number"),
    ],
)
def test_removing_images_the_item_does_not_have_is_refused(service, remove, reason):
    item = service.add_item(SYSTEM, {"title": "Keep"}, [jpeg()])
    with pytest.raises(InvalidInput, match=reason):
        service.update_item(SYSTEM, item.id, {"title": "Changed"}, remove_image_ids=remove)
    assert service.get_item(item.id).title == "Keep" and len(service.get_item(item.id).images) == 1


def test_adding_images_past_the_cap_is_refused_with_the_others_counted(service):
    service.settings = service.settings.replace(max_images_per_item=2)
    item = service.add_item(SYSTEM, {"title": "Keep"}, [jpeg((1, 1, 1)), jpeg((2, 2, 2))])
    with pytest.raises(InvalidInput, match="3 images, over the limit of 2"):
        service.update_item(SYSTEM, item.id, {}, add_images=[jpeg((3, 3, 3))])
    updated = service.update_item(
        SYSTEM, item.id, {}, add_images=[jpeg((3, 3, 3))], remove_image_ids=[item.images[0].id]
    )
    assert len(updated.images) == 2


@pytest.mark.parametrize("item_id", ["abc", None, True, 1.5, [1]])
def test_item_ids_that_are_not_whole_numbers_are_not_found(service, item_id):
    with pytest.raises(NotFound):
        service.add_review(SYSTEM, item_id, 5)
    with pytest.raises(NotFound):
        service.update_item(SYSTEM, item_id, {"title": "x"})


def test_a_review_without_a_rating_is_refused(service):
    item = service.add_item(SYSTEM, {"title": "Shirt"})
    with pytest.raises(InvalidInput, match="rating is required"):
        service.add_review(SYSTEM, item.id, None, text="no stars")
    with pytest.raises(InvalidInput, match="review text must be text"):
        service.add_review(SYSTEM, item.id, 5, text=["a", "list"])
    assert service.stats()["reviews"] == 0


def test_a_generated_id_steps_past_one_a_bulk_file_took(service, tmp_path):
    """A form item gets 'item-<n>'; a bulk row may already use that id for the same merchant."""
    service.import_bundle(SYSTEM, write_csv(tmp_path / "c.csv", ["id", "title"], [["item-2", "From the file"]]), None)
    added = service.add_item(SYSTEM, {"title": "From the form"})
    assert added.id == 2 and added.external_id == "item-2-2"
