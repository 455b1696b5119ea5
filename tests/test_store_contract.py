"""Runs the store contract (``store_contract.StoreContract``) against every store.

The embedded store always runs; the Elasticsearch cases are ``integration`` tests against the cluster of
the ``elasticsearch_url`` fixture (a test node unless ``ELASTICSEARCH_URL`` names one), each test on its own
index, deleted afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_contract import StoreContract

from indexer.stores.base import Store
from indexer.stores.factory import open_store


@pytest.fixture(params=["embedded", pytest.param("elasticsearch", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "embedded":
        opened = open_store("embedded", path=tmp_path / "index")
        yield opened
        opened.close()
        return
    index = f"fazhi-contract-{uuid.uuid4().hex[:12]}"
    opened = open_store("elasticsearch", url=request.getfixturevalue("elasticsearch_url"), index=index)
    try:
        yield opened
    finally:
        opened.drop()  # every generation of this test's alias, with the store's own credentials
        opened.close()


class TestStoreContract(StoreContract):
    pass
