from __future__ import annotations

from pathlib import Path

import pytest
from examples import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.ingest.cleaning import clean_text

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


BODY = [
    "各位代表：",
    "现在，我代表上海市人民政府，向大会报告工作，请予审议。请各位政协委员和其他列席人员提出意见。",
    "一、2025年工作回顾",
    "2025年是“十四五”规划冲刺收官、“十五五”规划谋篇布局之年。",
    "（一）全力促进经济平稳健康发展",
    "稳增长政策措施加快落地见效。全面落实国家出台的存量政策和增量政策。",
]


def page(head: list[str], tail: list[str]) -> str:
    return "\n".join([*head, *BODY, *tail]) + "\n"


# --------------------------------------------------------------------------- the real samples


def test_seed_004_bookmark_removed_and_nothing_else() -> None:
    raw = seed("004")
    assert "[bookmark: _GoBack]" in raw
    cleaned = clean_text(raw)
    assert "[bookmark" not in cleaned
    assert any(line.startswith("（二）深入开展普法宣传，提高法治素养。") for line in cleaned.split("\n"))
    expected = "\n".join(line.rstrip() for line in raw.replace("[bookmark: _GoBack]", "").split("\n"))
    assert cleaned == expected.strip()


def test_seed_003_footer_and_layout_indentation() -> None:
    raw = seed("003")
    assert "— - 1 - —" in raw and " " * 30 + "金城乡人民政府" in raw
    lines = clean_text(raw).split("\n")
    assert lines[0] == "金城乡2023年法治政府建设工作报告"
    assert lines[-4:] == ["", "中共金城乡委员会", "金城乡人民政府", "2024年1月19日"]
    assert not any("- 1 -" in line for line in lines)


def test_seed_001_traditional_text_and_publication_line_kept_verbatim() -> None:
    raw = seed("001")
    cleaned = clean_text(raw)
    assert "發布時間:2022-11-29 16:11 信息來源:辰溪縣船溪鄉" in cleaned.split("\n")
    assert cleaned == raw.strip()


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_seeds_idempotent_and_same_lines(prefix: str) -> None:
    raw = seed(prefix)
    cleaned = clean_text(raw)
    assert clean_text(cleaned) == cleaned
    content = [line.strip() for line in raw.split("\n") if line.strip()]
    kept = [line.strip() for line in cleaned.split("\n") if line.strip()]
    assert len(content) - len(kept) <= 1  # at most the page footer


# --------------------------------------------------------------------------- web chrome (provincial pages)

SHANGHAI_HEAD = ["下载", "打印", "全屏", "收藏", "【字号：", "加大", "还原", "减小", "】"]
SHANGHAI_TITLE = [
    "2026年上海市政府工作报告",
    "——2026年2月3日在上海市第十六届人民代表大会第四次会议上",
    "来源：解放日报",
    "时间：2026-02-09",
    "上海市市长 龚 正",
]


def test_toolbar_font_picker_and_related_tail() -> None:
    tail = [
        "各位代表，团结凝聚力量，奋斗铸就伟业。",
        "相关报道：",
        "上海两会｜政府工作报告全文",
        "解读：十件实事",
    ]
    cleaned = clean_text(page(SHANGHAI_HEAD + SHANGHAI_TITLE, tail))
    assert cleaned.split("\n") == [*SHANGHAI_TITLE, *BODY, "各位代表，团结凝聚力量，奋斗铸就伟业。"]


def test_breadcrumb_split_labels_view_counter_and_bracketed_buttons() -> None:
    head = [
        "当前位置：",
        "首页",
        ">",
        "政务信息",
        ">",
        "宁夏要闻",
        "2026年宁夏回族自治区政府工作报告",
        "发表时间：",
        "2026-02-09 09:45:30",
        "来源：",
        "宁夏日报客户端",
        "阅读量：",
        "【字体：",
        "小",
        "中",
        "大",
        "】",
    ]
    tail = ["扫一扫在手机打开当前页", "【", "打印本页", "】", "【", "关闭窗口", "】"]
    cleaned = clean_text(page(head, tail))
    assert cleaned.split("\n") == [
        "2026年宁夏回族自治区政府工作报告",
        "发表时间：2026-02-09 09:45:30",
        "来源：宁夏日报客户端",
        *BODY,
    ]


def test_column_title_and_repeated_title_after_breadcrumb() -> None:
    head = ["您的位置:", "首页", ">", "云南要闻", "云南要闻", "2026年政府工作报告", "来源：云南日报"]
    tail = ["》》点击图片进入专题《《", "收藏", "|", "分享到:", "分享到微信", "×", "相关文档："]
    assert clean_text(page(head, tail)).split("\n") == ["2026年政府工作报告", "来源：云南日报", *BODY]

    head = [
        "分享:",
        "陕西省2026年政府工作报告",
        "2026年1月27日在陕西省第十四届人民代表大会第四次会议上",
        "首页",
        ">",
        "政府信息公开",
        ">",
        "省政府工作报告",
        "陕西省2026年政府工作报告",
        "2026年1月27日在陕西省第十四届人民代表大会第四次会议上",
        "时间：",
        "2026-02-02 09:20",
    ]
    assert clean_text(page(head, [])).split("\n")[:4] == [
        "陕西省2026年政府工作报告",
        "2026年1月27日在陕西省第十四届人民代表大会第四次会议上",
        "时间：2026-02-02 09:20",
        BODY[0],
    ]


def test_editor_credits_and_related_links_at_the_end() -> None:
    tail = [
        "责任编辑：",
        "李莎莎",
        "扫一扫在手机打开当前页",
        "相关附件>>",
        "相关链接>>",
        "abcd39f1fb7f426d9dfb6bd0fa1f2146:",
        "四川干部群众热议政府工作报告 以奋勇争先之姿，乘势而为",
        "打印本页",
        "关闭窗口",
    ]
    assert clean_text(page(["2026年四川省人民政府工作报告"], tail)).split("\n")[-1] == BODY[-1]
    assert clean_text(page(["政府工作报告"], ["（来源：青海日报）", "编辑：何继红"])).split("\n")[-1] == (
        "（来源：青海日报）"
    )


def test_one_line_chrome_from_html_pages() -> None:
    head = [
        "当前位置：首页 > 法治政府建设",
        "金城乡2023年法治政府建设工作报告",
        "发布时间：2024-01-19 来源：金城乡人民政府 浏览次数：235",
        "下载 | 打印 | 全屏 | 收藏 【字号：大 中 小】",
    ]
    lines = clean_text(page(head, ["分享到：微信 微博"])).split("\n")
    assert lines == ["金城乡2023年法治政府建设工作报告", "发布时间：2024-01-19 来源：金城乡人民政府", *BODY]


# --------------------------------------------------------------------------- page footers and layout


@pytest.mark.parametrize(
    "footer",
    [
        "— - 1 - —",
        "- 2 -",
        "—1—",
        "－ 3 －",
        "第 1 页 共 3 页",
        "第2页/共3页",
        "共 3 页 第 1 页",
        "第 12 頁",
        "Page 2 of 9",
    ],
)
def test_page_footers_removed_anywhere(footer: str) -> None:
    body = BODY * 20  # the footer sits in the middle, far from the page edges
    text = "\n".join([*body[:60], footer, *body[60:]])
    assert clean_text(text).split("\n") == body


def test_blank_runs_trailing_spaces_and_indentation() -> None:
    text = (
        "标题  \n\n\n\n\n　　第一段。\t\n\n\n第二段。\n"
        "                              某某乡人民政府\n  （一）悬挂缩进"
    )
    assert clean_text(text) == "标题\n\n第一段。\n\n第二段。\n某某乡人民政府\n  （一）悬挂缩进"


# --------------------------------------------------------------------------- what must stay


@pytest.mark.parametrize(
    "line",
    [
        "（四）该网络信息的社会影响程度或者一定时间内的浏览量；",
        "二、雕刻字體：",
        "：",
        "├────┼─────────┼────┤",
        "審核：",
        "分享典型经验做法",
        "发布时间：2024-01-19",
        "（来源：青海日报）",
    ],
)
def test_body_lines_that_look_like_chrome_are_kept(line: str) -> None:
    text = "\n".join(["标题", line, line, "一、法人登記證書或公司執照影本。", line])
    assert clean_text(text) == text


def test_toolbar_words_in_the_middle_of_a_long_text_are_kept() -> None:
    body = BODY * 30
    text = "\n".join([*body[:90], "打印", "收藏", *body[90:]])
    assert clean_text(text) == text


def test_traditional_script_is_never_converted() -> None:
    text = "發布時間:2022-11-29 16:11 信息來源:辰溪縣船溪鄉\n\n一、加強組織領導,落實主體責任"
    assert clean_text(text) == text


# --------------------------------------------------------------------------- invariants

FRAGMENTS = [
    *BODY,
    *SHANGHAI_HEAD,
    "相关报道：",
    "首页",
    ">",
    "来源：",
    "时间：",
    "阅读量：",
    "责任编辑：",
    "李莎莎",
    "— - 1 - —",
    "[bookmark: _GoBack]",
    "",
    "   ",
    "　　",
    "2026年政府工作报告",
    "當前位置：",
    "【",
    "】",
    "|",
]


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=12), max_size=80))
def test_idempotent_and_adds_no_characters(parts: list[str]) -> None:
    text = "\n".join(parts)
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert set(cleaned) <= set(text) | {"\n"}
    assert "\n\n\n" not in cleaned
    assert cleaned == cleaned.strip()
