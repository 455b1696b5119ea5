"""Runs the store contract (``store_contract.StoreContract``) against every store.

The embedded store always runs; Elasticsearch runs when ``ELASTICSEARCH_URL`` points at a live cluster,
each test on its own index, deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_contract import StoreContract

from indexer.stores.base import Store
from indexer.stores.factory import open_store

NO_CLUSTER = "ELASTICSEARCH_URL not set: no Elasticsearch cluster to run the contract suite against"


@pytest.fixture(
    params=[
        "embedded",
        pytest.param(
            "elasticsearch",
            marks=pytest.mark.skipif(not os.environ.get("ELASTICSEARCH_URL"), reason=NO_CLUSTER),
        ),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "embedded":
        opened = open_store("embedded", path=tmp_path / "index")
        yield opened
        opened.close()
        return
    index = f"fazhi-contract-{uuid.uuid4().hex[:12]}"
    opened = open_store("elasticsearch", index=index)
    try:
        yield opened
    finally:
        opened.drop()  # every generation of this test's alias, with the store's own credentials
        opened.close()


class TestStoreContract(StoreContract):
    pass
