"""Throughput of indexer.analysis (fold, tokenize, analyze) in characters per second.

    .venv/bin/python bench/bench_analysis.py                # seeds + a ~5 M-character corpus slice
    .venv/bin/python bench/bench_analysis.py --verify       # + fast t2s == OpenCC('t2s') on all of laws-hant

The slice takes documents alternately from the Traditional and the Simplified laws so both scripts count.
``--verify`` compares the reference-faithful converter (OpenCC dictionaries, no folding extras) with
``OpenCC('t2s').convert`` document by document and exits non-zero on any difference; it also counts the
documents where ``fold`` (t2s plus width/case folding and the 著/着 rule) differs from OpenCC followed by the
same width/case folding, to show how often the extras apply.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from itertools import chain, zip_longest
from pathlib import Path

import jieba
from opencc import OpenCC

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer import analysis  # noqa: E402
from indexer.analysis import opencc_t2s  # noqa: E402


def _read_all(paths: list[Path]) -> list[str]:
    return [p.read_text(encoding="utf-8", errors="replace") for p in paths]


def corpus_slice(corpus: Path, chars: int) -> list[str]:
    hant = sorted((corpus / "laws-hant").rglob("*.txt"))
    hans = sorted((corpus / "laws-hans").rglob("*.txt"))
    docs: list[str] = []
    total = 0
    for path in chain.from_iterable(zip_longest(hant, hans)):
        if path is None:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        docs.append(text)
        total += len(text)
        if total >= chars:
            break
    return docs


def rate(label: str, docs: list[str], fn: Callable[[str], object]) -> float:
    n = sum(map(len, docs))
    start = time.perf_counter()
    for doc in docs:
        fn(doc)
    seconds = time.perf_counter() - start
    per_s = n / seconds
    print(f"  {label:<34} {n / 1e6:6.2f} M chars  {seconds:7.2f} s  {per_s / 1e6:7.2f} M chars/s")
    return per_s


def run(label: str, docs: list[str], opencc_docs: list[str]) -> None:
    print(f"{label}: {len(docs)} documents, {sum(map(len, docs)) / 1e6:.2f} M characters")
    folded = [analysis.fold(d) for d in docs]
    reference = OpenCC("t2s")
    rate("OpenCC('t2s').convert (reference)", opencc_docs, reference.convert)
    rate("fold (fast t2s + width/case)", docs, analysis.fold)
    rate("fold_with_offsets", docs, analysis.fold_with_offsets)
    rate("jieba cut_for_search (global)", folded, lambda t: list(jieba.cut_for_search(t)))
    rate("tokenize_folded (tokenize alone)", folded, analysis.tokenize_folded)
    rate("analyze (fold + tokenize)", docs, analysis.analyze)


def verify(corpus: Path) -> bool:
    paths = sorted((corpus / "laws-hant").rglob("*.txt"))
    plain = opencc_t2s()
    post = str.maketrans(analysis._post_fold_table())
    reference = OpenCC("t2s")
    chars = mismatched = extras = 0
    t_ref = t_fast = 0.0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        chars += len(text)
        t0 = time.perf_counter()
        expected = reference.convert(text)
        t1 = time.perf_counter()
        got = plain.convert(text)
        t_fast += time.perf_counter() - t1
        t_ref += t1 - t0
        if got != expected:
            mismatched += 1
            print(f"  MISMATCH {path.relative_to(corpus)}")
        if analysis.fold(text) != expected.translate(post):
            extras += 1
    print(
        f"verify laws-hant: {len(paths)} documents, {chars / 1e6:.1f} M chars; "
        f"OpenCC {chars / t_ref / 1e6:.2f} M chars/s, fast {chars / t_fast / 1e6:.2f} M chars/s; "
        f"{mismatched} mismatching documents; fold extras (著/着, compatibility forms) in {extras} documents"
    )
    return mismatched == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--chars", type=int, default=5_000_000, help="size of the corpus slice")
    parser.add_argument("--opencc-chars", type=int, default=1_000_000, help="slice share run through OpenCC")
    parser.add_argument("--verify", action="store_true", help="check fast t2s == OpenCC on all of laws-hant")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    analysis.fold("")
    t1 = time.perf_counter()
    analysis.tokenize("")
    t2 = time.perf_counter()
    jieba.setLogLevel(60)
    jieba.initialize()
    print(f"init: fold tables {t1 - t0:.2f} s, jieba + domain dictionary {t2 - t1:.2f} s")

    seeds = _read_all(sorted(args.seeds.glob("*.txt")))
    run("seeds", seeds, seeds)
    if args.corpus.is_dir():
        docs = corpus_slice(args.corpus, args.chars)
        opencc_docs = corpus_slice(args.corpus, args.opencc_chars)
        run("corpus slice", docs, opencc_docs)
        if args.verify and not verify(args.corpus):
            return 1
    else:
        print(f"corpus not found at {args.corpus}: slice skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
