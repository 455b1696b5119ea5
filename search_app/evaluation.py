"""Judged-query evaluation: nDCG@10, Recall@10 and MRR per search mode and per query kind.

Implements the scoring rule of the shared judged set: a hit answers a passage when the hit's text, converted
to Simplified (OpenCC t2s) and stripped of whitespace, contains one of the passage's phrases (converted the
same way), and the hit comes from the passage's sample report. Each passage counts once.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from opencc import OpenCC

CUTOFF = 10
MODES = ("hybrid", "bm25", "vector")


@dataclass(frozen=True)
class Passage:
    seed: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class JudgedQuery:
    id: str
    query: str
    kind: str
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class EvalHit:
    source: str  # file path; its name's first three characters name the sample
    text: str


@dataclass(frozen=True)
class QueryScore:
    ndcg: float
    recall: float
    mrr: float


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", _t2s().convert(text))


def load_queries(path: Path) -> list[JudgedQuery]:
    queries = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            passages = tuple(Passage(p["seed"], tuple(p["any_of"])) for p in row["relevant"])
            queries.append(JudgedQuery(row["id"], row["query"], row.get("kind", "other"), passages))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a judged query ({exc})") from exc
    return queries


def score_query(query: JudgedQuery, hits: Sequence[EvalHit], cutoff: int = CUTOFF) -> QueryScore:
    phrases = [(p.seed, [normalise(x) for x in p.phrases]) for p in query.passages]
    answered: set[int] = set()
    gains: list[int] = []
    first_rank = 0
    for rank, hit in enumerate(hits[:cutoff], 1):
        seed = Path(hit.source).name[:3]
        text = normalise(hit.text)
        gain = 0
        for i, (p_seed, p_phrases) in enumerate(phrases):
            if p_seed == seed and any(x in text for x in p_phrases):
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


Searcher = Callable[[str, str], Sequence[EvalHit]]  # (query, mode) → ranked hits


def evaluate(
    queries: Iterable[JudgedQuery], search: Searcher, modes: Sequence[str] = MODES
) -> dict[str, dict[str, QueryScore]]:
    """Mean scores per mode, per kind (and ``all``)."""
    table: dict[str, dict[str, QueryScore]] = {}
    queries = list(queries)
    for mode in modes:
        by_kind: dict[str, list[QueryScore]] = defaultdict(list)
        for q in queries:
            score = score_query(q, search(q.query, mode))
            by_kind[q.kind].append(score)
            by_kind["all"].append(score)
        table[mode] = {kind: _mean(scores) for kind, scores in by_kind.items()}
    return table


def _mean(scores: Sequence[QueryScore]) -> QueryScore:
    n = len(scores)
    return QueryScore(
        sum(s.ndcg for s in scores) / n, sum(s.recall for s in scores) / n, sum(s.mrr for s in scores) / n
    )


def format_table(table: dict[str, dict[str, QueryScore]]) -> str:
    kinds = sorted({k for per_mode in table.values() for k in per_mode}, key=lambda k: (k == "all", k))
    lines = [f"{'mode':<8} {'kind':<14} {'nDCG@10':>8} {'R@10':>6} {'MRR':>6}"]
    for mode, per_kind in table.items():
        for kind in kinds:
            if kind in per_kind:
                s = per_kind[kind]
                lines.append(f"{mode:<8} {kind:<14} {s.ndcg:8.3f} {s.recall:6.3f} {s.mrr:6.3f}")
    return "\n".join(lines)
