"""Indexer: read government reports, parse them into sections and chunks, analyse, embed and store them."""
