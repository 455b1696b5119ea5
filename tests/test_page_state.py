"""The page's URL state: a round trip restores the state, and nothing in a URL makes decoding raise."""

from __future__ import annotations

from hostile import SYNTAX_QUERIES, hostile_queries
from hypothesis import given
from hypothesis import strategies as st

from search_app import page_state as ps

FULL = ps.PageState(
    query="楓橋經驗 -扶贫",
    mode="vector",
    page=4,
    year_min=2022,
    year_max=2023,
    provinces=("湖南省", "河南省"),
    counties=("辰溪县",),
    townships=("船溪乡",),
    categories=("存在问题", "下步计划"),
    fusion="weighted",
    lexical_weight=0.3,
    per_report=True,
    view="reports",
    sort="date",
)

states = st.builds(
    ps.PageState,
    query=st.text(st.characters(categories=("L", "N", "P", "S")), max_size=40).map(str.strip),
    mode=st.sampled_from(ps.MODES),
    page=st.integers(1, ps.MAX_PAGE),
    year_min=st.none() | st.integers(2000, 2010),
    year_max=st.none() | st.integers(2011, 2030),
    provinces=st.lists(st.sampled_from(["湖南省", "河南省", "a&b=c", "x y"]), unique=True).map(tuple),
    categories=st.lists(st.sampled_from(["存在问题", "其他"]), unique=True).map(tuple),
    fusion=st.sampled_from(ps.FUSIONS),
    lexical_weight=st.sampled_from([0.0, 0.05, 0.5, 0.75, 1.0]),
    per_report=st.booleans(),
    view=st.sampled_from(ps.VIEWS),
    sort=st.sampled_from(ps.SORTS),
)


def test_defaults_give_an_empty_url():
    assert ps.encode(ps.PageState()) == {}
    assert ps.decode({}) == ps.PageState()


def test_full_state_round_trips_and_uses_repeated_parameters_for_lists():
    params = ps.encode(FULL)
    assert params["prov"] == ["湖南省", "河南省"]
    assert params["q"] == "楓橋經驗 -扶贫"
    assert params["page"] == "4"
    assert ps.decode(params) == FULL


@given(states)
def test_any_state_round_trips(state):
    assert ps.decode(ps.encode(state)) == state


def test_state_gives_offset_and_filters():
    assert FULL.offset == 3 * ps.PAGE_SIZE
    filters = FULL.filters
    assert (filters.year_min, filters.year_max) == (2022, 2023)
    assert filters.provinces == ("湖南省", "河南省")
    assert filters.categories == ("存在问题", "下步计划")


def test_bad_values_fall_back_to_defaults():
    state = ps.decode(
        {
            "mode": "DROP TABLE",
            "page": "-3",
            "y0": "１９９９",  # full-width digits are not a year here
            "y1": "99999999999999999999",
            "fusion": "<script>",
            "w": "nan",
            "group": "maybe",
        }
    )
    assert state == ps.PageState()


def test_values_are_clamped_cleaned_and_deduplicated():
    state = ps.decode(
        {
            "q": "  法治\x00政府\u202e " + "长" * 1000,
            "page": "0",
            "w": "7",
            "y0": "2024",
            "y1": "2020",
            "prov": ["湖南省", "湖南省", "", "\x07", "河南省"],
            "mode": " BM25 ",
        }
    )
    assert state.query.startswith("法治政府")
    assert len(state.query) == ps.MAX_QUERY_CHARS
    assert state.page == 1
    assert state.lexical_weight == 1.0
    assert (state.year_min, state.year_max) == (2020, 2024)  # swapped, not dropped
    assert state.provinces == ("湖南省", "河南省")
    assert state.mode == "bm25"


def test_cut_values_do_not_end_in_a_space():
    state = ps.decode({"q": "a " * 400, "county": ["b " * 100]})
    assert not state.query.endswith(" ") and not state.counties[0].endswith(" ")
    assert ps.decode(ps.encode(state)) == state


def test_list_parameters_are_capped():
    state = ps.decode({"town": [f"镇{i}" for i in range(500)], "county": ["县" * 5000]})
    assert len(state.townships) == ps.MAX_VALUES
    assert state.counties == ("县" * ps.MAX_VALUE_CHARS,)


def test_non_string_values_are_ignored():
    state = ps.decode({"q": 42, "prov": [None, 3, "湖南省"], "page": ["2", "9"], "mode": {"a": 1}})
    assert state == ps.PageState(provinces=("湖南省",), page=2)


@given(
    st.dictionaries(
        st.sampled_from(
            ["q", "mode", "page", "y0", "y1", "prov", "county", "town", "cat", "fusion", "w", "group"]
        )
        | st.text(max_size=5),
        hostile_queries() | st.lists(hostile_queries(), max_size=4) | st.sampled_from(SYNTAX_QUERIES),
    )
)
def test_garbage_never_raises(params):
    state = ps.decode(params)
    assert state.mode in ps.MODES
    assert state.fusion in ps.FUSIONS
    assert 1 <= state.page <= ps.MAX_PAGE
    assert 0.0 <= state.lexical_weight <= 1.0
    assert all(ord(c) < 0xD800 or ord(c) > 0xDFFF for c in state.query)
    assert ps.decode(ps.encode(state)) == state  # what decode gives is itself a clean URL state


def test_report_compare_and_advanced_fields_round_trip_and_garbage_falls_back():
    state = ps.PageState(
        query='"人民调解" OR "行政复议"',
        title="船溪乡",
        issuer="人民政府",
        date_from="2022-01-01",
        date_to="2024-12-31",
        doc="2466afa12af62425",
        at="2466afa12af62425:3:0",
        section=4,
        compare_category="存在问题",
        compare_topic="调解",
        compare_per=3,
        compare_province="湖南省",
        compare_page=2,
    )
    params = ps.encode(state)
    assert params["from"] == "2022-01-01" and params["sec"] == "4" and params["per"] == "3"
    assert params["cprov"] == "湖南省" and params["cpage"] == "2"
    assert ps.decode(params) == state
    assert state.filters.title_contains == ("船溪乡",)
    assert state.filters.published_from == "2022-01-01"
    bad = ps.decode({"from": "2024-13-40", "to": "yesterday", "sec": "-1", "per": "4", "cpage": "0"})
    assert (bad.date_from, bad.date_to, bad.section, bad.compare_per) == ("", "", None, 1)
    assert bad.compare_page == 1
    swapped = ps.decode({"from": "2024-01-01", "to": "2022-01-01"})
    assert (swapped.date_from, swapped.date_to) == ("2022-01-01", "2024-01-01")


def test_filters_in_words_for_an_export_header():
    state = ps.PageState(townships=("金城乡",), date_from="2024-01-01", issuer="人民政府")
    assert ps.describe_filters(state) == "乡镇：金城乡；发布机关含：人民政府；发布日期：2024-01-01 起"
    assert ps.describe_filters(ps.PageState()) == "无"
