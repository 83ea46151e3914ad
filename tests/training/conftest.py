from __future__ import annotations

import pytest

from recsys.encoders.text import TextEncoder
from tests.encoders.models import shared_text_encoder


@pytest.fixture(scope="session")
def minilm() -> TextEncoder:
    return shared_text_encoder()
