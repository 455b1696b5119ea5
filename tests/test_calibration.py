"""The semantic calibration (``indexer.calibration``) measured on a real index of the seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.analysis import fold
from indexer.calibration import Calibration, Calibrator, probes, query_language
from indexer.settings import Settings
from indexer.stores.base import NO_FILTERS
from search_app.services import open_engine


@pytest.fixture(scope="module")
def engine(seeds_index: Path):
    return open_engine(Settings(index_dir=seeds_index))


def test_query_language() -> None:
    assert query_language("legal adviser") == "en"
    assert query_language("法律顾问") == query_language("法律 adviser") == query_language("2023") == "zh"


def test_probes_cover_both_languages_and_are_no_eval_queries() -> None:
    found = probes()
    assert len(found["zh"]) >= 40 and len(found["en"]) >= 40
    eval_dir = Path(__file__).resolve().parent.parent / "eval"
    evaluated = (eval_dir / "no_answer_queries.jsonl").read_text(encoding="utf-8")
    assert not any(f'"{p}"' in evaluated for texts in found.values() for p in texts)


def test_the_index_records_the_calibration_of_its_embedder(engine) -> None:
    recorded = engine.store.calibration()
    assert recorded is not None and recorded["embedder_id"] == engine.embedder.id
    calibration = Calibration.from_dict(recorded)
    assert calibration.passages == engine.stats().chunks
    assert set(calibration.excess) == {"zh", "en"} and all(0 < e < 1 for e in calibration.excess.values())


def test_no_off_topic_probe_clears_its_threshold(engine) -> None:
    """What the threshold means: no probe's best passage goes above it (the largest one is on it)."""
    calibration = engine.threshold.calibration()
    for lang, texts in probes().items():
        margins = []
        for text in texts:
            vector = engine.embedder.embed_query(fold(text))
            best = engine.store.vector(vector, NO_FILTERS, 1)[0].score
            margins.append(best - calibration.threshold(text, vector))
        assert max(margins) == pytest.approx(0.0, abs=1e-4), lang


def test_background_is_the_mean_similarity_to_the_index(engine) -> None:
    calibration = engine.threshold.calibration()
    vector = engine.embedder.embed_query("法治宣传")
    every = engine.store.vector(vector, NO_FILTERS, engine.stats().chunks)
    assert calibration.background(vector) == pytest.approx(np.mean([s.score for s in every]), abs=1e-4)


def test_calibrator_streams_batches_like_one_pass(engine) -> None:
    vectors = engine.store.get_vectors([s.chunk_id for s in engine.store.lexical(["法治"], NO_FILTERS, 40)])
    whole, batched = Calibrator(engine.embedder), Calibrator(engine.embedder)
    whole.observe(vectors)
    batched.observe(vectors[:7])
    batched.observe(vectors[7:])
    batched.observe([])
    a, b = whole.result(), batched.result()
    np.testing.assert_allclose(a.centroid, b.centroid, atol=1e-6)
    # float32 dot products over a batch or the whole matrix may round differently in the last bits
    assert a.excess == pytest.approx(b.excess, abs=1e-6) and a.passages == b.passages == len(vectors)
