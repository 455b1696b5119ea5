"""``python -m indexer.indicators``: extract indicators from files, or score the extractor on a golden file.

python -m indexer.indicators evaluate eval/indicators_golden.jsonl [--reports seeds]
python -m indexer.indicators extract seeds/001_8983b31abeb2f5d4.txt [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from indexer.indicators.evaluation import evaluate, format_score, load_golden
from indexer.ingest.readers import ReadError
from indexer.ingest.reports import load_report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m indexer.indicators", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="precision/recall against a golden file, misses per kind")
    ev.add_argument("golden", type=Path, metavar="GOLDEN.jsonl")
    ev.add_argument("--reports", type=Path, default=Path("seeds"), help="directory of the golden's seeds")
    ev.add_argument("--json", action="store_true")
    ex = sub.add_parser("extract", help="the indicators of report files")
    ex.add_argument("files", type=Path, nargs="+")
    ex.add_argument("--json", action="store_true", help="one JSON object per indicator")
    return parser


def run_evaluate(args: argparse.Namespace) -> int:
    score = evaluate(load_golden(args.golden), lambda seed: load_report(args.reports / seed).indicators)
    if args.json:
        record = {
            "golden": score.golden,
            "extracted": score.extracted,
            "matched": score.matched,
            "precision": round(score.precision, 4),
            "recall": round(score.recall, 4),
            "misses": [dataclasses.asdict(f) for f in score.misses],
        }
        print(json.dumps(record, ensure_ascii=False))
    else:
        print(format_score(score))
    return 0


def run_extract(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            report = load_report(path)
        except ReadError as exc:
            print(f"error: {path}: {exc.reason}", file=sys.stderr)
            status = 1
            continue
        for indicator in report.indicators:
            if args.json:
                record = {"source": str(path), **dataclasses.asdict(indicator)}
                print(json.dumps(record, ensure_ascii=False))
            else:
                figure = report.text[indicator.figure_start : indicator.figure_end]
                print(f"{path.name}\t{indicator.kind}\t{indicator.value:g}\t{indicator.unit}\t{figure}")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run_evaluate(args) if args.command == "evaluate" else run_extract(args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
