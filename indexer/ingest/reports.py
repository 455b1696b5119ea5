"""Turn a raw document into a parsed Report: clean → metadata → sections."""

from __future__ import annotations

import hashlib
from pathlib import Path

from indexer.indicators import extract_indicators
from indexer.ingest.cleaning import clean_text
from indexer.ingest.metadata import extract_meta
from indexer.ingest.readers import RawDocument, ReadError, read_document
from indexer.ingest.sections import parse_sections
from indexer.models import Report

__all__ = ["load_report", "parse_report", "report_id"]


def report_id(text: str) -> str:
    """Stable id of a report: the first 16 hex digits of the SHA-1 of its cleaned text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def parse_report(raw: RawDocument) -> Report:
    """Parse one read document; raises ReadError when nothing is left after cleaning."""
    text = clean_text(raw.text)
    if not text.strip():
        raise ReadError(raw.source, "no text after cleaning")
    meta = extract_meta(text, raw.source)
    sections = tuple(parse_sections(text))
    return Report(
        id=report_id(text),
        source=raw.source,
        text=text,
        meta=meta,
        sections=sections,
        encoding=raw.encoding,
        indicators=extract_indicators(text, meta.year, sections),
    )


def load_report(path: str | Path) -> Report:
    """Read, clean and parse the report at ``path`` (ReadError if it cannot be read or is empty)."""
    return parse_report(read_document(path))
