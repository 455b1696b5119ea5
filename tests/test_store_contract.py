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


def _delete_indices(prefix: str) -> None:
    """Delete every index whose name starts with ``prefix`` (by name: clusters refuse wildcard deletes)."""
    from elasticsearch import Elasticsearch

    password = os.environ.get("ELASTICSEARCH_PASSWORD")
    client = Elasticsearch(
        os.environ["ELASTICSEARCH_URL"],
        api_key=os.environ.get("ELASTICSEARCH_API_KEY") or None,
        basic_auth=(os.environ.get("ELASTICSEARCH_USERNAME", "elastic"), password) if password else None,
        ca_certs=os.environ.get("ELASTICSEARCH_CA_CERTS") or None,
        request_timeout=30,
    )
    try:
        names = list(client.indices.get(index=f"{prefix}*", expand_wildcards="all"))
        if names:
            client.indices.delete(index=",".join(names))
    finally:
        client.close()


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
        opened.close()
        _delete_indices(index)


class TestStoreContract(StoreContract):
    pass
