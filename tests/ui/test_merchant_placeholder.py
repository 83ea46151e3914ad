"""The "no image" placeholder: a real PNG, one file reused, drawn again when a temp cleaner removed it."""

from pathlib import Path

from PIL import Image

from recsys.ui.placeholder import PLACEHOLDER_SIZE, placeholder_image


def test_placeholder_is_a_neutral_png_that_is_reused_and_redrawn():
    path = Path(placeholder_image())
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.size == (PLACEHOLDER_SIZE, PLACEHOLDER_SIZE)
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours and len(colours) > 2  # something is drawn on the background, not a blank square
    assert placeholder_image() == str(path)
    path.unlink()
    assert Path(placeholder_image()).is_file()
