"""The 指标 tab, run headless by Streamlit's AppTest against a real index of the seed reports."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "search_app" / "app.py")
TIMEOUT = 120  # the first run in a process loads the model


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch, seeds_index: Path) -> AppTest:
    monkeypatch.setenv("SEARCH_STORE", "embedded")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(seeds_index))
    monkeypatch.delenv("EMBEDDER", raising=False)
    return checked(AppTest.from_file(APP, default_timeout=TIMEOUT).run())


def checked(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def source_cards(at: AppTest) -> list[str]:
    return [
        m.value for m in at.markdown if m.value.startswith('<div class="fz-card">') and "<mark>" in m.value
    ]


def test_table_has_empty_cells_and_a_chosen_indicator_has_chart_and_sources(page: AppTest) -> None:
    assert [t.label for t in page.tabs] == ["检索", "对比", "指标"]
    table = page.dataframe(key="ind_table").value
    assert len(table) == 5  # one row per seed report
    assert table.loc["船溪鄉 · 2022", "调解成功率"] == 98
    assert math.isnan(table.loc["土门关乡 · 2024", "调解成功率"])  # no figure: empty, not zero
    assert page.get("vega_lite_chart") == []

    at = checked(page.selectbox(key="ind_kind").set_value("调解成功率").run())
    assert len(at.get("vega_lite_chart")) == 1
    cards = source_cards(at)
    assert len(cards) == 3 and any("調解成功率均達<mark>98%</mark>" in c for c in cards)


def test_sidebar_filter_applies_to_the_table(page: AppTest) -> None:
    at = checked(page.multiselect(key="townships").set_value(["金城乡"]).run())
    table = at.dataframe(key="ind_table").value
    assert list(table.index) == ["金城乡 · 2023"]
    at = checked(at.selectbox(key="ind_kind").set_value("法律咨询人次").run())
    (card,) = source_cards(at)
    assert "接待咨询<mark>400余人次</mark>" in card


def test_a_selected_cell_shows_its_source_sentences(page: AppTest) -> None:
    table = page.dataframe(key="ind_table").value
    row = list(table.index).index("花田乡 · 2023")
    page.session_state["ind_table"] = {
        "selection": {"rows": [], "columns": [], "cells": [(row, "法律明白人人数")]}
    }
    at = checked(page.run())
    panel = [m.value for m in at.markdown if "全年培养法律明白人<mark>6名</mark>" in m.value]
    assert panel, "the cell's source sentences are shown"
    assert any("现有法律明白人<mark>24名</mark>" in m.value for m in at.markdown)
