from __future__ import annotations

import pytest

from indexer.ingest.gazetteer import (
    COUNTY,
    PREFECTURE,
    PROVINCE,
    Division,
    Gazetteer,
    county_stem,
    default_gazetteer,
)


@pytest.mark.parametrize(
    ("name", "province"),
    [
        ("乌苏市", "新疆维吾尔自治区"),
        ("辰溪县", "湖南省"),
        ("湟中区", "青海省"),  # the table still has 湟中县
        ("博爱县", "河南省"),
        ("酉阳土家族苗族自治县", "重庆市"),
        ("酉阳县", "重庆市"),
    ],
)
def test_national_table_finds_the_province(name: str, province: str) -> None:
    gazetteer = default_gazetteer()
    divisions = gazetteer.lookup(name)
    assert len(divisions) == 1
    assert gazetteer.province_name(divisions[0]) == province


def test_shared_county_names_return_every_division() -> None:
    gazetteer = default_gazetteer()
    provinces = {gazetteer.province_name(d) for d in gazetteer.lookup("鼓楼区")}
    assert {"江苏省", "福建省", "河南省"} <= provinces


def test_official_names_win_over_short_forms() -> None:
    table = [
        Division("110000", "北京市"),
        Division("110105", "朝阳区"),
        Division("210000", "辽宁省"),
        Division("211300", "朝阳市"),
        Division("211321", "朝阳县"),
    ]
    gazetteer = Gazetteer(table)
    assert [d.code for d in gazetteer.lookup("朝阳区")] == ["110105"]
    assert [d.code for d in gazetteer.lookup("朝阳市")] == ["211300"]
    assert gazetteer.lookup("朝阳") == ()


def test_match_at_prefers_the_longest_name() -> None:
    gazetteer = Gazetteer([Division("500000", "重庆市"), Division("500242", "酉阳土家族苗族自治县")])
    assert gazetteer.match_at("酉阳土家族苗族自治县花田乡", 0) == (
        "酉阳土家族苗族自治县",
        gazetteer.lookup("酉阳土家族苗族自治县"),
    )
    assert gazetteer.match_at("酉阳土家族苗族自治县花田乡", 1) is None


def test_ranks_come_from_the_code() -> None:
    assert Division("650000", "新疆维吾尔自治区").rank == PROVINCE
    assert Division("654200", "塔城地区").rank == PREFECTURE
    assert Division("654202", "乌苏市").rank == COUNTY
    assert Division("654202", "乌苏市").province_code == "650000"


def test_county_stem_strips_peoples_only_from_autonomous_counties() -> None:
    nations = ["土家族", "苗族", "蒙古族"]
    assert county_stem("酉阳土家族苗族自治县", nations) == "酉阳"
    assert county_stem("和布克赛尔蒙古自治县", nations) == "和布克赛尔"
    assert county_stem("苗族县", nations) == "苗族"
