"""Judged-query evaluation: nDCG@10, Recall@10 and MRR per search mode and per query kind, and how honest the
result sets are.

Implements the scoring rule of the shared judged set: a hit answers a passage when the hit's text, converted
to Simplified (OpenCC t2s) and stripped of whitespace, contains one of the passage's phrases (converted the
same way), and the hit comes from the passage's document. Each passage counts once. A passage names its
document by ``seed`` (the first three characters of a sample report's file name) or, for a passage of any
other document (a distractor that answers the query too), by ``doc``: the file name without its extension.

Beyond the ranking of the first ten: ``R@all`` is the share of judged passages found anywhere among
*all* the results the engine reports (micro-averaged over passages), and a query of kind ``no-answer`` (no
``relevant`` list: nothing in the index answers it) counts towards ``zero``, the share of such queries
that get no result at all. A ``"split"`` field (``tune`` / ``heldout``) lets figures be reported on the part
that nothing was tuned on; lines without one get the deterministic split of ``assign_splits``.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from opencc import OpenCC

CUTOFF = 10
MODES = ("hybrid", "bm25", "vector")
NO_ANSWER = "no-answer"
SPLITS = ("tune", "heldout")


@dataclass(frozen=True)
class Passage:
    seed: str
    phrases: tuple[str, ...]
    doc: str = ""  # file stem of a non-sample document; when set, it names the document instead of ``seed``

    def in_document(self, source: str) -> bool:
        name = Path(source).name
        return Path(name).stem == self.doc if self.doc else name[:3] == self.seed


@dataclass(frozen=True)
class JudgedQuery:
    id: str
    query: str
    kind: str
    passages: tuple[Passage, ...]
    split: str = ""  # "tune", "heldout" or unsplit


@dataclass(frozen=True)
class EvalHit:
    source: str  # file path: its stem names the document, its first three characters a sample
    text: str


@dataclass(frozen=True)
class QueryScore:
    ndcg: float
    recall: float
    mrr: float


@dataclass(frozen=True)
class KindScore:
    """Means over the queries of one kind (``ndcg``… are None for no-answer queries)."""

    queries: int
    ndcg: float | None
    recall: float | None
    mrr: float | None
    recall_all: float | None  # judged passages among all reported results / judged passages
    zero: float  # share of queries with no result at all
    results: float  # mean number of reported results


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", _t2s().convert(text))


def load_queries(path: Path) -> list[JudgedQuery]:
    """The judged queries of one JSON-lines file; lines without a ``split`` get ``assign_splits``'s."""
    queries = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            kind = row.get("kind", "other")
            relevant = row.get("relevant", []) if kind == NO_ANSWER else row["relevant"]
            if kind == NO_ANSWER and relevant:
                raise ValueError("a no-answer query has no relevant passages")
            passages = tuple(_passage(p) for p in relevant)
            split = row.get("split", "")
            if split not in ("", *SPLITS):
                raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
            queries.append(JudgedQuery(row["id"], row["query"], kind, passages, split))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a judged query ({exc})") from exc
    return assign_splits(queries)


def _passage(row: dict) -> Passage:
    if not (row.get("seed") or row.get("doc")):
        raise ValueError("every relevant passage needs a seed or a doc")
    return Passage(row.get("seed", ""), tuple(row["any_of"]), row.get("doc", ""))


def assign_splits(queries: Sequence[JudgedQuery]) -> list[JudgedQuery]:
    """Gives each query without a split one, stratified by kind: within a kind, in id order, alternately
    tune and heldout (the first one tunes). Deterministic, so a split never moves between runs; the shared
    dev set, which cannot be edited, is split this way, and our own files carry the same split written out."""
    position: dict[str, int] = defaultdict(int)
    out = []
    for q in sorted(queries, key=lambda q: (q.kind, q.id)):
        if not q.split:
            q = replace(q, split=SPLITS[position[q.kind] % 2])
        position[q.kind] += 1
        out.append(q)
    order = {q.id: i for i, q in enumerate(queries)}
    return sorted(out, key=lambda q: order[q.id])


def in_split(queries: Iterable[JudgedQuery], split: str) -> list[JudgedQuery]:
    """The queries of one split; ``"all"`` keeps them all."""
    if split not in ("all", *SPLITS):
        raise ValueError(f"unknown split {split!r}; choose all, tune or heldout")
    return [q for q in queries if split == "all" or q.split == split]


def add_passages(queries: Sequence[JudgedQuery], path: Path) -> list[JudgedQuery]:
    """The queries with more relevant passages from ``path``: lines ``{"id", "relevant"}`` naming a query of
    ``queries`` (of any judged set) and passages to add to it, such as distractors that answer it too."""
    extra: dict[str, list[Passage]] = defaultdict(list)
    known = {q.id for q in queries}
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if row["id"] not in known:
                raise ValueError(f"no judged query {row['id']!r}")
            extra[row["id"]].extend(_passage(p) for p in row["relevant"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a list of extra passages ({exc})") from exc
    return [replace(q, passages=q.passages + tuple(extra.get(q.id, ()))) for q in queries]


def in_documents(queries: Sequence[JudgedQuery], sources: Iterable[str]) -> list[JudgedQuery]:
    """The queries without the passages of documents that are not among ``sources`` (file paths or names):
    an index that lacks a document cannot be asked to find it, so its passages do not count there."""
    names = [Path(s).name for s in sources]
    return [
        replace(q, passages=tuple(p for p in q.passages if any(p.in_document(n) for n in names)))
        for q in queries
    ]


def score_query(query: JudgedQuery, hits: Sequence[EvalHit], cutoff: int = CUTOFF) -> QueryScore:
    phrases = [(p, [normalise(x) for x in p.phrases]) for p in query.passages]
    answered: set[int] = set()
    gains: list[int] = []
    first_rank = 0
    for rank, hit in enumerate(hits[:cutoff], 1):
        text = normalise(hit.text)
        gain = 0
        for i, (passage, p_phrases) in enumerate(phrases):
            if passage.in_document(hit.source) and any(x in text for x in p_phrases):
                if not first_rank:
                    first_rank = rank
                if i not in answered:
                    answered.add(i)
                    gain = 1
        gains.append(gain)
    dcg = sum(g / math.log2(r + 1) for r, g in enumerate(gains, 1))
    ideal = sum(1 / math.log2(r + 1) for r in range(1, min(len(phrases), cutoff) + 1))
    return QueryScore(
        ndcg=dcg / ideal if ideal else 0.0,
        recall=len(answered) / len(phrases) if phrases else 0.0,
        mrr=1 / first_rank if first_rank else 0.0,
    )


# (query, mode) → every reported result, ranked (the first ten are the ranking scored by nDCG@10)
Searcher = Callable[[str, str], Sequence[EvalHit]]


def answered(query: JudgedQuery, hits: Sequence[EvalHit]) -> int:
    """How many of the query's judged passages are among ``hits``."""
    found = 0
    for passage in query.passages:
        phrases = [normalise(x) for x in passage.phrases]
        if any(passage.in_document(h.source) and any(x in normalise(h.text) for x in phrases) for h in hits):
            found += 1
    return found


def evaluate(
    queries: Iterable[JudgedQuery], search: Searcher, modes: Sequence[str] = MODES
) -> dict[str, dict[str, KindScore]]:
    """Mean scores per mode, per kind (and ``all``, which leaves no-answer queries out of the ranking
    figures but counts them in ``zero`` only when every query is one)."""
    table: dict[str, dict[str, KindScore]] = {}
    queries = list(queries)
    for mode in modes:
        by_kind: dict[str, list[tuple[JudgedQuery, Sequence[EvalHit]]]] = defaultdict(list)
        for q in queries:
            hits = search(q.query, mode)
            by_kind[q.kind].append((q, hits))
            if q.kind != NO_ANSWER:
                by_kind["all"].append((q, hits))
        table[mode] = {kind: _kind_score(rows) for kind, rows in by_kind.items() if rows}
    return table


def _kind_score(rows: Sequence[tuple[JudgedQuery, Sequence[EvalHit]]]) -> KindScore:
    n = len(rows)
    zero = sum(1 for _, hits in rows if not hits) / n
    results = sum(len(hits) for _, hits in rows) / n
    judged = [(q, hits) for q, hits in rows if q.passages]
    if not judged:
        return KindScore(n, None, None, None, None, zero, results)
    scores = [score_query(q, hits) for q, hits in judged]
    passages = sum(len(q.passages) for q, _ in judged)
    return KindScore(
        queries=n,
        ndcg=sum(s.ndcg for s in scores) / len(scores),
        recall=sum(s.recall for s in scores) / len(scores),
        mrr=sum(s.mrr for s in scores) / len(scores),
        recall_all=sum(answered(q, hits) for q, hits in judged) / passages,
        zero=zero,
        results=results,
    )


def format_table(table: dict[str, dict[str, KindScore]]) -> str:
    kinds = sorted({k for per_mode in table.values() for k in per_mode}, key=lambda k: (k == "all", k))
    lines = [
        f"{'mode':<8} {'kind':<14} {'n':>3} {'nDCG@10':>8} {'R@10':>6} {'MRR':>6} {'R@all':>6} "
        f"{'zero':>5} {'results':>7}"
    ]
    for mode, per_kind in table.items():
        for kind in kinds:
            if kind in per_kind:
                s = per_kind[kind]
                lines.append(
                    f"{mode:<8} {kind:<14} {s.queries:>3} {_f(s.ndcg, 8)} {_f(s.recall, 6)} {_f(s.mrr, 6)} "
                    f"{_f(s.recall_all, 6)} {s.zero:5.2f} {s.results:7.1f}"
                )
    return "\n".join(lines)


def _f(value: float | None, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}.3f}"
