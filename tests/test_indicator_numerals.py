"""Numbers and figures: Chinese numerals, 万, decimals, separators, percentages, and what is not a figure."""

from __future__ import annotations

import cn2an
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.analysis import fold
from indexer.indicators.numerals import find_figures, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("63", 63),
        ("1,500", 1500),
        ("98.5", 98.5),
        ("3.26万", 32600),
        ("7万", 70000),
        ("三十二", 32),
        ("两", 2),
        ("一千二百", 1200),
        ("十三万六千零二十四", 136024),
        ("一点五", 1.5),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "件", "百", "abc"])
def test_parse_number_rejects_non_numbers(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


@given(st.integers(min_value=1, max_value=99_999_999))
def test_chinese_numerals_round_trip(n: int) -> None:
    numeral = cn2an.an2cn(n)
    assert parse_number(numeral) == n
    (figure,) = find_figures(f"共办理{numeral}件。")
    assert (figure.value, figure.unit) == (n, "件")


@given(st.integers(min_value=0, max_value=10**9 - 1))
def test_full_width_digits_fold_to_the_same_figure(n: int) -> None:
    wide = "".join(chr(ord(c) + 0xFEE0) for c in str(n))
    (figure,) = find_figures(fold(f"调解{wide}起"))
    assert (figure.value, figure.unit) == (n, "起")


def test_figures_with_approximation_words() -> None:
    figures = find_figures("开展讲座20余场，受教1500余人次，咨询200人次以上，近30件，约5次，百分之九十五")
    assert [(f.value, f.unit, f.approx) for f in figures] == [
        (20, "场", True),
        (1500, "人次", True),
        (200, "人次", True),
        (30, "件", True),
        (5, "次", True),
        (95, "%", False),
    ]


def test_longest_unit_wins() -> None:
    assert [f.unit for f in find_figures("12场次，98人次，3人")] == ["场次", "人次", "人"]


@pytest.mark.parametrize(
    "text",
    [
        "2023年以来",
        "2022年11月29日",
        "一、履职情况",
        "1、强化党政同责",
        "结合“4.15”、“6.26”等节日",
        "联系电话0996-12345678件",  # a phone number is not a count even before a unit
        "编号13912345678人",
        "千万不要",
    ],
)
def test_not_figures(text: str) -> None:
    assert find_figures(fold(text)) == []


def test_figure_offsets_cover_number_and_unit() -> None:
    text = "发放宣传资料2300余份"
    (figure,) = find_figures(text)
    assert text[figure.start : figure.end] == "2300余份"
    assert text[figure.number_start] == "2"
