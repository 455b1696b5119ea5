"""Judged-query scoring (``search_app.evaluation``): the ranking figures, R@all and no-answer queries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search_app.evaluation import EvalHit, evaluate, format_table, load_queries

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


ROWS = [
    {
        "id": "q1",
        "query": "枫桥经验",
        "kind": "lexical",
        "split": "tune",
        "relevant": [{"seed": "001", "any_of": ["枫桥经验"]}, {"seed": "002", "any_of": ["楓橋經驗"]}],
    },
    {"id": "n1", "query": "区块链", "kind": "no-answer", "split": "heldout"},
    {"id": "n2", "query": "asdfgh", "kind": "no-answer", "split": "heldout"},
]
FILLER = [EvalHit("seeds/003_x.txt", "无关段落")] * 10


def fake_search(query: str, mode: str) -> list[EvalHit]:
    if query == "枫桥经验":  # one judged passage in the first ten, the other one further down
        return [EvalHit("seeds/001_a.txt", "坚持枫桥经验"), *FILLER, EvalHit("seeds/002_b.txt", "枫桥经验")]
    return FILLER[:2] if query == "asdfgh" else []


def test_no_answer_queries_count_towards_zero_and_recall_counts_all_results(tmp_path: Path) -> None:
    queries = load_queries(write(tmp_path / "q.jsonl", ROWS))
    assert [q.split for q in queries] == ["tune", "heldout", "heldout"]
    table = evaluate(queries, fake_search, ["hybrid"])["hybrid"]
    assert table["lexical"].recall == 0.5 and table["lexical"].recall_all == 1.0
    assert table["no-answer"].zero == 0.5 and table["no-answer"].ndcg is None
    assert table["no-answer"].results == 1.0
    assert table["all"].queries == 1  # no-answer queries stay out of the ranking figures
    assert "no-answer" in format_table({"hybrid": table})


def test_a_no_answer_query_with_relevant_passages_is_refused(tmp_path: Path) -> None:
    bad = [{"id": "n", "query": "x", "kind": "no-answer", "relevant": [{"seed": "001", "any_of": ["x"]}]}]
    with pytest.raises(ValueError, match="no-answer"):
        load_queries(write(tmp_path / "bad.jsonl", bad))


def test_unknown_split_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="split"):
        load_queries(write(tmp_path / "bad.jsonl", [{**ROWS[0], "split": "test"}]))


def test_own_judged_sets_are_split_and_the_no_answer_set_is_big_enough() -> None:
    judged = load_queries(ROOT / "eval" / "judged_queries.jsonl")
    assert {q.split for q in judged} == {"tune", "heldout"}
    no_answer = load_queries(ROOT / "eval" / "no_answer_queries.jsonl")
    assert len(no_answer) >= 10 and all(q.kind == "no-answer" and not q.passages for q in no_answer)
    assert {q.split for q in no_answer} == {"tune", "heldout"}
