"""Similar practices: spread over reports, similarity in words, shared terms marked."""

from __future__ import annotations

from search_app import similar_view as sv


def test_at_most_one_per_report(make_hit):
    hits = [make_hit(report_id=r, n=n) for r, n in (("a", 0), ("a", 1), ("a", 2), ("b", 0), ("c", 0))]
    assert [h.chunk.report_id for h in sv.diverse(hits, per_report=1, limit=3)] == ["a", "b", "c"]


def test_shared_terms_are_whole_content_words():
    shared = sv.shared_terms("坚持和发展新时代枫桥经验，推进人民调解工作", "深化人民调解，枫桥经验在我镇落地")
    assert set(shared) == {"枫桥经验", "人民调解"}
    assert "工作" not in sv.shared_terms("推进工作", "开展工作")


def test_card_says_how_similar_and_marks_what_is_shared(make_hit):
    source = make_hit(text="推进人民调解，化解矛盾纠纷。").chunk
    card = sv.card_html(make_hit(text="深化人民调解工作。", score=0.874), source)
    assert "内容相似度 87%" in card
    assert "共同用语：人民调解" in card and "<mark>人民调解</mark>" in card
