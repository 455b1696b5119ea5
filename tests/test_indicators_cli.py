"""``python -m search_app indicators`` over a real index of the seeds, and the engine's indicator listing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from indexer.settings import Settings
from indexer.stores.base import Filters
from search_app.__main__ import main
from search_app.records import INDICATOR_FIELDS, indicator_record
from search_app.services import open_engine


@pytest.fixture
def index_env(seeds_index: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SEARCH_STORE", "embedded")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(seeds_index))
    return seeds_index


def test_json_lines_carry_report_and_source_sentence(
    index_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["indicators", "--kind", "调解成功率", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(r["township"], r["value"], r["approx"]) for r in records} == {
        ("八十四户乡", 95, True),
        ("船溪鄉", 98, False),
        ("花田乡", 100, False),
    }
    for record in records:
        assert {
            "report_id",
            "title",
            "township",
            "county",
            "province",
            "year",
            "kind",
            "value",
            "unit",
            "approx",
            "text",
        } <= set(record)
        assert record["unit"] == "%" and record["kind"] == "调解成功率"
    (chuanxi,) = [r for r in records if r["township"] == "船溪鄉"]
    assert "調解成功率均達98%" in chuanxi["text"]  # the sentence as the report writes it
    assert (chuanxi["county"], chuanxi["year"]) == ("辰溪縣", 2022)


def test_township_filter_in_either_script_and_csv(
    index_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["indicators", "--township", "船溪乡", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows and {r["township"] for r in rows} == {"船溪鄉"}
    assert tuple(rows[0]) == INDICATOR_FIELDS
    assert {(r["kind"], r["value"]) for r in rows} >= {("调解纠纷件数", "157"), ("调解成功件数", "154")}


def test_table_and_unknown_kind(index_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["indicators", "--kind", "法律明白人人数"]) == 0
    out = capsys.readouterr().out
    assert "花田乡" in out and "6名" in out and "24名" in out
    assert main(["indicators", "--kind", "没有这种指标"]) == 2
    assert "unknown indicator kind '没有这种指标'" in capsys.readouterr().err


def test_kinds_lists_the_taxonomy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["indicators", "--kinds"]) == 0
    assert "调解纠纷件数\t" in capsys.readouterr().out


def test_engine_indicators_offsets_point_into_the_report(seeds_index: Path) -> None:
    engine = open_engine(Settings(index_dir=seeds_index))
    rows = engine.indicators(Filters(counties=("博爱县",)))
    assert rows and {r.meta.township for r in rows} == {"金城乡"}
    report = engine.report(rows[0].report_id)
    for row in rows:
        record = indicator_record(row)
        assert report.text[record["start"] : record["end"]] == record["text"]
        figure = report.text[record["figure_start"] : record["figure_end"]]
        assert str(record["value"]) in figure.replace(",", "")
