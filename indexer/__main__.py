"""Command line of the indexer: ``python -m indexer parse PATH... [--json]``.

Each subcommand is one ``add_parser`` call in ``build_parser`` and one ``run_*`` function returning
an exit code.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from indexer import index_commands
from indexer.ingest.chunking import chunk_report
from indexer.ingest.file_access import source_name
from indexer.ingest.readers import ReadError
from indexer.ingest.reports import load_report
from indexer.models import Report
from indexer.printable import printable

__all__ = ["build_parser", "main", "report_json", "report_outline"]

_META_LABELS = (
    ("title", "title"),
    ("township", "township"),
    ("county", "county"),
    ("province", "province"),
    ("year", "year"),
    ("published", "published"),
    ("issuer", "issuer"),
)


def report_outline(report: Report, chunk_count: int) -> str:
    """Human-readable summary: source, metadata, indented section outline, chunk count."""
    lines = [f"== {printable(report.source)}  (id {report.id})"]
    for field, label in _META_LABELS:
        value = getattr(report.meta, field)
        if value not in ("", None):
            lines.append(f"  {label:>9}: {value}")
    lines.append(f"  sections ({len(report.sections)}):")
    for section in report.sections:
        heading = section.heading.removeprefix(section.ordinal).strip()
        if not section.heading:
            heading = "<" + _first_words(report.text[section.start : section.end]) + ">"
        ordinal = f"{section.ordinal} " if section.ordinal else ""
        indent = "  " * section.level
        lines.append(f"  {indent}L{section.level} {ordinal}{heading}  [{section.category}]")
    lines.append(f"  chunks: {chunk_count}")
    return "\n".join(lines)


def _first_words(text: str, width: int = 24) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width] + "…"


def report_json(report: Report, chunk_count: int) -> dict[str, object]:
    """The JSON object ``parse --json`` prints for one report."""
    return {
        "source": report.source,
        "id": report.id,
        "meta": dataclasses.asdict(report.meta),
        "sections": [dataclasses.asdict(section) for section in report.sections],
        "chunks": chunk_count,
    }


def run_parse(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    failed = 0
    for path in args.paths:
        try:
            report = load_report(path)
            count = len(chunk_report(report))
        except ReadError as exc:  # its message already names the file
            failed += 1
            print(f"error: {printable(str(exc))}", file=err)
            continue
        except (OSError, ValueError) as exc:
            failed += 1
            print(f"error: {printable(source_name(path))}: {exc}", file=err)
            continue
        if args.json:
            print(json.dumps(report_json(report, count), ensure_ascii=False), file=out)
        else:
            print(report_outline(report, count), file=out)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m indexer", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parse = commands.add_parser("parse", help="parse reports and print metadata and section outline")
    parse.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parse.add_argument("--json", action="store_true", help="one JSON object per report")
    parse.set_defaults(func=run_parse)
    index_commands.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
