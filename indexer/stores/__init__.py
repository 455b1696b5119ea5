"""Index stores: one protocol (``base.Store``), an embedded SQLite store and an Elasticsearch store."""
