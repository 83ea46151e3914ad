"""Catalog fixtures: every catalog test runs on SQLite and, where a server is given, on PostgreSQL."""

from __future__ import annotations

import os

import pytest

from recsys.service.catalog import CatalogService

POSTGRES_URL = os.environ.get("RECSYS_TEST_POSTGRES_URL", "")


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service(request, settings) -> CatalogService:
    if request.param == "postgres":
        if not POSTGRES_URL:
            if os.environ.get("CI"):
                pytest.fail("CI must run the catalog tests on PostgreSQL: RECSYS_TEST_POSTGRES_URL is not set")
            pytest.skip("RECSYS_TEST_POSTGRES_URL not set")
        _reset_postgres(POSTGRES_URL)
        settings = settings.replace(database_url=POSTGRES_URL)
    svc = CatalogService(settings)
    yield svc
    svc.close()
