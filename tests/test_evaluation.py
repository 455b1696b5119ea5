"""Judged-query scoring (``search_app.evaluation``): the ranking figures, R@all and no-answer queries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search_app.evaluation import EvalHit, evaluate, format_table, in_split, load_queries, score_query

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


def _write(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_a_doc_passage_is_answered_only_by_that_document(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            {
                "id": "x1",
                "query": "法律顾问",
                "kind": "lexical",
                "relevant": [
                    {"seed": "002", "any_of": ["聘请法律顾问"]},
                    {"doc": "2026_湖南", "any_of": ["村（社区）法律顾问全覆盖"]},
                ],
            }
        ],
    )
    (query,) = load_queries(path)
    hits = [
        EvalHit("/x/2026_湖南.txt", "推进村（社区）法律顾问全覆盖。"),
        EvalHit("/x/2026_湖北.txt", "推进村（社区）法律顾问全覆盖。"),  # same words, other document
        EvalHit("/x/002_abc.txt", "为全乡聘請法律顧問"),  # Traditional and spaces fold away
    ]
    score = score_query(query, hits)
    assert score.recall == 1.0 and score.mrr == 1.0
    assert score_query(query, hits[1:2]).recall == 0.0


def test_splits_alternate_within_each_kind_and_keep_explicit_ones(tmp_path: Path) -> None:
    rows = [{"id": f"q{i}", "query": "x", "kind": kind, "relevant": []} for i, kind in enumerate("aabbbab")]
    rows[6]["split"] = "heldout"
    queries = load_queries(_write(tmp_path, rows))
    assert [q.id for q in queries] == [r["id"] for r in rows]  # file order kept
    split = {q.id: q.split for q in queries}
    # kind a: q0, q1, q5 → tune, heldout, tune; kind b: q2, q3, q4 → tune, heldout, tune; q6 as written
    assert split == {
        "q0": "tune",
        "q1": "heldout",
        "q5": "tune",
        "q2": "tune",
        "q3": "heldout",
        "q4": "tune",
        "q6": "heldout",
    }
    assert [q.id for q in in_split(queries, "heldout")] == ["q1", "q3", "q6"]
    assert len(in_split(queries, "all")) == len(rows)
    with pytest.raises(ValueError, match="unknown split"):
        in_split(queries, "test")


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"id": "a", "query": "x", "split": "train", "relevant": []}, "split"),
        ({"id": "a", "query": "x", "relevant": [{"any_of": ["x"]}]}, "seed or a doc"),
    ],
)
def test_bad_lines_name_the_line_and_the_problem(tmp_path: Path, row: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=rf"q\.jsonl:1: .*{problem}"):
        load_queries(_write(tmp_path, [row]))


def test_own_judged_set_is_split_in_every_kind() -> None:
    queries = load_queries(ROOT / "eval" / "judged_queries.jsonl")
    for kind in {q.kind for q in queries}:
        splits = [q.split for q in queries if q.kind == kind]
        assert splits.count("tune") >= 4 and splits.count("heldout") >= 4, kind  # every kind is in both parts


def test_extra_passages_join_their_query_and_count_only_where_their_document_is(tmp_path: Path) -> None:
    from search_app.evaluation import add_passages, in_documents

    base = _write(
        tmp_path,
        [{"id": "x1", "query": "信访", "kind": "lexical", "relevant": [{"seed": "002", "any_of": ["信访"]}]}],
    )
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        json.dumps({"id": "x1", "relevant": [{"doc": "2026_北京市", "any_of": ["信访工作法治化"]}]}),
        encoding="utf-8",
    )
    (query,) = add_passages(load_queries(base), extra)
    assert [p.doc or p.seed for p in query.passages] == ["002", "2026_北京市"]
    (seeds_only,) = in_documents([query], ["/s/002_abc.txt", "/s/003_def.txt"])
    assert [p.seed for p in seeds_only.passages] == ["002"]
    (both,) = in_documents([query], ["/s/002_abc.txt", "/c/2026_北京市.txt"])
    assert len(both.passages) == 2
    extra.write_text(json.dumps({"id": "nope", "relevant": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="no judged query 'nope'"):
        add_passages(load_queries(base), extra)


@pytest.mark.shared_data
def test_every_distractor_judgment_names_a_corpus_document_holding_its_phrase() -> None:
    from conftest import ROOT, SHARED

    from search_app.evaluation import normalise

    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        pytest.skip(f"{corpus} not found")
    by_stem = {path.stem: path for path in corpus.rglob("*.txt")}
    lines = (ROOT / "eval" / "distractor_judgments.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    assert rows
    for row in rows:
        for passage in row["relevant"]:
            assert passage["doc"] in by_stem, (row["id"], passage["doc"])
            text = normalise(by_stem[passage["doc"]].read_text(encoding="utf-8"))
            assert any(normalise(phrase) in text for phrase in passage["any_of"]), (row["id"], passage)
