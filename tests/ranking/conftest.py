"""The opinion fixture catalog of tests/opinions (real MiniLM, an opinion model trained on the fixture reviews)."""

from tests.opinions.conftest import opinion_catalog  # noqa: F401  (a fixture, used by the opinion ranker tests)
