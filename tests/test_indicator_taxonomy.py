"""The taxonomy data file: it loads, its kinds are unique, malformed lines are named, phrases fold."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.analysis import fold
from indexer.indicators.evaluation import load_golden
from indexer.indicators.taxonomy import TaxonomyError, parse_taxonomy, taxonomy

GOLDEN = Path(__file__).resolve().parents[1] / "eval" / "indicators_golden.jsonl"


def test_shipped_taxonomy_loads_with_the_issue_kinds() -> None:
    labels = {k.label for k in taxonomy()}
    assert len(labels) == len(taxonomy()) >= 30
    for kind in (
        "调解纠纷件数",
        "调解成功件数",
        "调解成功率",
        "普法活动次数",
        "法治讲座场次",
        "受众人次",
        "宣传资料份数",
        "法律咨询人次",
        "法律顾问人数",
        "法律顾问覆盖村数",
        "法律明白人人数",
        "合同文件审查件数",
        "行政复议件数",
        "行政诉讼件数",
        "学法次数",
        "考试通过率",
        "信访件数",
    ):
        assert kind in labels


def test_every_golden_kind_is_in_the_taxonomy_with_its_unit() -> None:
    kinds = {k.label: k for k in taxonomy()}
    for figure in load_golden(GOLDEN):
        assert figure.unit in kinds[figure.kind].units, figure


def test_phrases_are_folded_so_traditional_text_matches() -> None:
    (kind,) = parse_taxonomy(["调解成功件数\t件\t調解成功"])
    assert kind.phrases == ("调解成功",)
    assert kind.matches(fold("共調解成功154起"))


def test_gap_phrase_and_context() -> None:
    (kind,) = parse_taxonomy(["法律顾问覆盖村数\t个\t法律顾问\t#行政村"])
    assert kind.fits("为全乡#行政村聘请法律顾问")
    assert not kind.fits("成为全国政府总法律顾问试点省份和#国际商事仲裁")
    (gapped,) = parse_taxonomy(["调解纠纷件数\t件\t调解…纠纷"])
    (match,) = gapped.matches("共调解各类矛盾纠纷")
    assert (match.start, match.end) == (1, 9)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("调解纠纷件数\t件", "fields"),
        ("调解纠纷件数\t斤\t调解", "unknown units"),
        ("调解纠纷件数\t件\t…调解", "phrases"),
        ("\t件\t调解", "kind"),
    ],
)
def test_malformed_lines_are_named(line: str, problem: str) -> None:
    with pytest.raises(TaxonomyError, match=rf"x.tsv:2: .*{problem}"):
        parse_taxonomy(["# comment", line], "x.tsv")


def test_repeated_kind_is_an_error() -> None:
    with pytest.raises(TaxonomyError, match="repeated"):
        parse_taxonomy(["a\t件\t调解", "a\t件\t化解"])
