"""Search from the command line: ``python -m search_app search``, ``evaluate`` and ``indicators``."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from indexer.analysis import fold
from indexer.indicators.taxonomy import taxonomy
from indexer.models import CATEGORIES
from indexer.printable import printable
from indexer.settings import STORE_KINDS, Settings
from indexer.stores.base import Filters, IndexEmptyError, StoreError
from indexer.wiring import IndexMissingError
from search_app.engine import Mode, SearchEngine, SearchResult
from search_app.evaluation import MODES, SPLITS, EvalHit, evaluate, format_table, load_queries
from search_app.fusion import FusionMethod
from search_app.grouping import SortOrder
from search_app.highlight import plain_marks
from search_app.records import INDICATOR_FIELDS, hit_record, indicator_record, number
from search_app.services import open_engine


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", choices=STORE_KINDS)
    parser.add_argument("--index-dir")
    parser.add_argument("--es-index")
    parser.add_argument("--embedder")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m search_app", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    search = sub.add_parser("search", help="search the index (one QUERY, or one query per line on stdin)")
    search.add_argument("query", nargs="?", help="the query; omit to read queries from stdin")
    search.add_argument("--mode", choices=[m.value for m in Mode], default="hybrid")
    search.add_argument("--fusion", choices=[f.value for f in FusionMethod], default="rrf")
    search.add_argument("--weight", type=float, default=0.5, help="lexical weight for --fusion weighted")
    search.add_argument("--top", type=int, default=10)
    search.add_argument("--offset", type=int, default=0)
    search.add_argument("--per-report", type=int, help="at most N hits per report")
    search.add_argument(
        "--sort", choices=[o.value for o in SortOrder], default="relevance", help="order of the results"
    )
    search.add_argument("--json", action="store_true", help="one JSON object per query")
    search.add_argument("--year-from", type=int)
    search.add_argument("--year-to", type=int)
    search.add_argument("--province", action="append", default=[])
    search.add_argument("--county", action="append", default=[])
    search.add_argument("--township", action="append", default=[])
    search.add_argument("--category", action="append", default=[], choices=CATEGORIES)
    _add_common(search)

    ev = sub.add_parser("evaluate", help="nDCG@10, Recall@10 and MRR per mode and query kind")
    ev.add_argument("queries", type=Path, nargs="+", metavar="QUERIES.jsonl")
    ev.add_argument("--modes", default=",".join(MODES))
    ev.add_argument(
        "--split", choices=["all", *SPLITS], default="all", help="only queries of this split (default: all)"
    )
    ev.add_argument("--json", action="store_true")
    _add_common(ev)

    ind = sub.add_parser(
        "indicators", help="figures the reports give (调解纠纷件数, 调解成功率 …), per report"
    )
    ind.add_argument("--kind", action="append", default=[], help="only this kind (repeatable); see --kinds")
    ind.add_argument("--kinds", action="store_true", help="list the kinds of the taxonomy and exit")
    ind.add_argument("--year-from", type=int)
    ind.add_argument("--year-to", type=int)
    ind.add_argument("--province", action="append", default=[])
    ind.add_argument("--county", action="append", default=[])
    ind.add_argument("--township", action="append", default=[])
    ind.add_argument("--category", action="append", default=[], choices=CATEGORIES)
    output = ind.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON object per indicator (UTF-8)")
    output.add_argument("--csv", action="store_true", help="CSV with a header row (UTF-8)")
    _add_common(ind)
    return parser


def _engine(args: argparse.Namespace) -> SearchEngine:
    return open_engine(
        Settings.from_env(
            store=args.store, index_dir=args.index_dir, es_index=args.es_index, embedder=args.embedder
        )
    )


def _print_table(query: str, result: SearchResult, out=sys.stdout) -> None:
    print(
        f"== {query}: {result.total} results "
        f"({result.lexical_total} contain the words, {result.semantic_total} match the meaning only)",
        file=out,
    )
    for notice in result.notices:
        print(f"   ({notice})", file=out)
    if not result.hits:
        print("   no results", file=out)
    for n, hit in enumerate(result.hits, 1):
        meta = hit.chunk.meta
        place = " · ".join(str(x) for x in (meta.township, meta.county, meta.year) if x)
        ranks = " ".join(f"{k}#{v}" for k, v in hit.ranks.items())
        head = f"{n:>3}. {meta.title}  [{place}]  {hit.chunk.category}  {hit.match}"
        print(f"{head}  score={hit.score:.4f} {ranks}", file=out)
        print(f"     {hit.chunk.section_path}", file=out)
        text = plain_marks(hit.chunk.text, hit.spans).replace("\n", " ")
        print(f"     {text[:240]}{'…' if len(text) > 240 else ''}", file=out)


def run_search(args: argparse.Namespace) -> int:
    filters = Filters(
        year_min=args.year_from,
        year_max=args.year_to,
        provinces=tuple(args.province),
        counties=tuple(args.county),
        townships=tuple(args.township),
        categories=tuple(args.category),
    )
    queries = [_text(args.query)] if args.query is not None else _stdin_lines(sys.stdin.buffer)
    engine = _engine(args)
    status = 0
    for query in queries:
        result = engine.search(
            query,
            mode=args.mode,
            filters=filters,
            top_k=args.top,
            offset=args.offset,
            fusion=args.fusion,
            lexical_weight=args.weight,
            per_report=args.per_report,
            sort=args.sort,
        )
        if args.json:
            record = {
                "query": query,
                "total": result.total,
                "lexical_total": result.lexical_total,
                "semantic_total": result.semantic_total,
                "hits": [hit_record(h) for h in result.hits],
            }
            if result.message or result.notices:
                record["notices"] = [*([result.message] if result.message else []), *result.notices]
            print(json.dumps(record, ensure_ascii=False), flush=True)
        elif result.message:
            print(f"== {printable(query)!r}: {result.message}", flush=True)
            status = status or 1
        else:
            _print_table(printable(query), result)
            sys.stdout.flush()
    return status


def _text(arg: str) -> str:
    """A command-line argument as valid text: undecodable bytes (surrogate escapes) become U+FFFD."""
    return os.fsencode(arg).decode("utf-8", errors="replace")


def _stdin_lines(stream: BinaryIO) -> Iterator[str]:
    """Queries one per line, each as soon as it arrives; bytes that are not UTF-8 become U+FFFD."""
    for raw in stream:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def run_evaluate(args: argparse.Namespace) -> int:
    engine = _engine(args)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    def search(query: str, mode: str) -> list[EvalHit]:
        """The page's first ten, then the rest of the result set (all of it, as an export holds)."""
        first = engine.search(query, mode=mode, top_k=10)
        hits = list(first.hits)
        if first.total > len(hits):
            hits += engine.search(query, mode=mode, top_k=first.total - len(hits), offset=len(hits)).hits
        return [EvalHit(h.chunk.meta.source, h.chunk.text) for h in hits]

    for path in args.queries:
        queries = [q for q in load_queries(path) if args.split == "all" or q.split == args.split]
        if not queries:
            print(f"# {path}: no queries in split {args.split!r}")
            continue
        table = evaluate(queries, search, modes)
        if args.json:
            print(
                json.dumps(
                    {
                        "queries": str(path),
                        "split": args.split,
                        "scores": {m: {k: vars(s) for k, s in per.items()} for m, per in table.items()},
                    },
                    ensure_ascii=False,
                )
            )
        else:
            print(f"# {path}" + ("" if args.split == "all" else f" ({args.split} part)"))
            print(format_table(table))
    return 0


def _kinds(asked: Sequence[str]) -> tuple[str, ...]:
    """The taxonomy labels ``asked`` names (either script); ValueError names an unknown one."""
    labels = {fold(k.label): k.label for k in taxonomy()}
    unknown = [k for k in asked if fold(k) not in labels]
    if unknown:
        raise ValueError(f"unknown indicator kind {unknown[0]!r}: `--kinds` lists the {len(labels)} kinds")
    return tuple(labels[fold(k)] for k in asked)


def run_indicators(args: argparse.Namespace) -> int:
    if args.kinds:
        for kind in taxonomy():
            print(f"{kind.label}\t{','.join(sorted(kind.units))}")
        return 0
    kinds = _kinds(args.kind)
    filters = Filters(
        year_min=args.year_from,
        year_max=args.year_to,
        provinces=tuple(args.province),
        counties=tuple(args.county),
        townships=tuple(args.township),
        categories=tuple(args.category),
    )
    rows = _engine(args).indicators(filters, kinds)
    if args.json:
        for row in rows:
            print(json.dumps(indicator_record(row), ensure_ascii=False))
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=INDICATOR_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(indicator_record(row) for row in rows)
    else:
        for row in rows:
            meta, i = row.meta, row.indicator
            place = meta.township or meta.county or meta.title or row.report_id
            approx = "≈" if i.approx else ""
            sentence = i.text.replace("\n", " ")
            print(f"{place}\t{i.year or ''}\t{i.kind}\t{approx}{number(i.value)}{i.unit}\t{sentence[:80]}")
        if not rows:
            print("no indicators", file=sys.stderr)
    return 0


COMMANDS = {"search": run_search, "evaluate": run_evaluate, "indicators": run_indicators}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except IndexMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except IndexEmptyError:
        print("error: the index is empty: run `python -m indexer reindex seeds` first", file=sys.stderr)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
