"""Remove conversion artifacts and web-page chrome from raw report text; keep everything else verbatim.

What goes: Word ``[bookmark: …]`` markers, page footers (``— - 1 - —``, ``第 1 页 共 3 页``), the toolbars,
font-size pickers, breadcrumbs, share buttons, view counters, editor credits and "related articles" tails
that government sites put around an article, trailing spaces, layout indentation (centred or right-aligned
signatures, full-width paragraph indents) and runs of blank lines. What stays: the wording, its script
(Traditional is never converted), line structure, hanging indents of wrapped legal text, and publication
lines such as ``發布時間:2022-11-29 16:11 信息來源:辰溪縣船溪鄉`` (a label whose value the page had put
on the next line is joined back to it), because the metadata parser reads dates and issuers from them.

``clean_text`` is idempotent: it applies one pass until nothing changes.
"""

from __future__ import annotations

import re

__all__ = ["clean_text"]

# Chrome sits at the top and bottom of a page; single-word chrome lines are only removed there, so a body
# line that happens to read "打印" is never at risk.
HEAD_LINES = 60
TAIL_LINES = 40
TITLE_LINES = 20
_MAX_PASSES = 8

_INVISIBLE = re.compile("[\ufeff\u200b]")
_BOOKMARK = re.compile(r"\[bookmark:[^\]\n]*\]")
_DASHES = "-－—–―‐‑~～_＿"
_PAGE_FOOTER = re.compile(
    rf"""^(?:
        [{_DASHES}\s]*[{_DASHES}]\s*\d{{1,4}}\s*[{_DASHES}][{_DASHES}\s]*     # - 1 -  — - 2 - —  —3—
      | 第\s*\d{{1,4}}\s*[页頁](?:\s*[,，/／]?\s*共\s*\d{{1,4}}\s*[页頁])?      # 第 1 页 共 3 页
      | 共\s*\d{{1,4}}\s*[页頁]\s*[,，/／]?\s*第\s*\d{{1,4}}\s*[页頁]          # 共 3 页 第 1 页
      | page\s*\d{{1,4}}(?:\s*(?:of|/)\s*\d{{1,4}})?                           # Page 1 of 3
    )$""",
    re.VERBOSE | re.IGNORECASE,
)

# Toolbar words; a head or tail line made only of these and separators is chrome.
_TOOLBAR_WORDS = (
    "下载|下載|打印|列印|全屏|收藏|关闭|關閉|关闭窗口|關閉窗口|打印本页|打印本頁|打印此页|打印文章|关闭本页"
    "|返回顶部|返回頂部|返回|我要纠错|纠错|分享|分享到|分享至|分享到微信|分享到微博|分享到QQ空间|微信|微博"
    "|QQ空间|QQ|收藏本页|加入收藏|保存|保存本页|复制链接|复制网址|扫一扫|字号|字體|字体|字號"
)
_SEPARATORS = r"\s|｜丨/／·•、:：\[\]【】()（）《》<>«»×✕"
_TOOLBAR_LINE = re.compile(rf"^[{_SEPARATORS}]*(?:(?:{_TOOLBAR_WORDS})[{_SEPARATORS}]*)+$")
_SEPARATOR_LINE = re.compile(r"^[|｜丨×✕]$")  # the leftovers of a share bar
_FONT_PICKER = re.compile(
    r"【\s*字\s*[号號体體]\s*[:：]?[\s大中小加减減还還原默认默認标準准|｜/]*(?:】|$)"
    r"|字\s*[号號体體]\s*[:：]\s*(?:[大中小]\s*[|｜/]?\s*){2,}"
    r"|[\[【]\s*[大中小]\s*[\]】]\s*[\[【]\s*[大中小]\s*[\]】]\s*[\[【]\s*[大中小]\s*[\]】]"
)
_QR_CODE = re.compile(r"^(?:扫一扫|掃一掃|手机扫一扫|用手机扫描).{0,12}$|^.{0,4}在手机(?:上)?打开.{0,6}$")
_SPECIAL_TOPIC = re.compile(r"^[》>]*\s*点击(?:图片)?进入专题\s*[《<]*$")
_SHARE = re.compile(r"^分享(?:到|至)?\s*[:：].{0,20}$")
_VIEW_COUNT = re.compile(
    r"(?:浏览次数|浏览量|瀏覽次數|瀏覽量|阅读次数|阅读量|閱讀次數|閱讀量|访问量|訪問量|访问次数|"
    r"点击数|点击量|點擊數|點擊量|点击率)\s*(?:[:：]\s*\d*|\d+)\s*次?"
)
_POSITION = re.compile(
    r"^(?:您的位置|你的位置|您现在的位置|当前位置|所在位置|您當前的位置|當前位置|現在位置)\s*[:：]"
)
_CRUMB_ARROW = re.compile(r"^[>»›＞→]+$")
_CRUMB_LINE = re.compile(r"^(?:首页|首頁|网站首页|網站首頁)\s*(?:[>»›＞→]\s*[^>»›＞→]{1,20}\s*)+$")
_HOME = re.compile(r"^(?:首页|首頁|网站首页|網站首頁)$")
_RELATED = re.compile(
    r"^(?:相关|相關)(?:报道|報導|文档|文檔|新闻|新聞|阅读|閱讀|链接|鏈接|連結|附件|稿件|文章|信息|資訊)"
    r"\s*[:：>》]*$|^延伸阅读\s*[:：]?$"
)
_CREDIT_WORDS = "责任编辑|責任編輯|编辑|編輯|责编|責編|审核|審核|校对|校對|审校|審校|初审|复审|终审"
_NAME = r"[^\s。；;：:，,、（）()]{1,6}(?:[ 　、，,][^\s。；;：:，,、（）()]{1,6}){0,3}"  # one to four names
_CREDIT = re.compile(rf"^[（(]?\s*(?:{_CREDIT_WORDS})\s*[:：]\s*{_NAME}\s*[）)]?$")
_CREDIT_LABEL = re.compile(rf"^(?:{_CREDIT_WORDS})\s*[:：]$")
_NAME_LINE = re.compile(rf"^{_NAME}$")
_META_LABEL = re.compile(
    r"^(?:来源|來源|信息来源|信息來源|文章来源|稿件来源|发布时间|發布時間|发表时间|發表時間|发布日期|發布日期"
    r"|更新时间|更新時間|时间|時間|日期|作者|发布机构|發布機構|发文机关|發文機關|文号|文號|索引号|索引號)\s*[:：]$"
)
_LEADING_SPACE = re.compile(r"^[ \t\u3000\u00a0]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """The report text without artifacts and page chrome, lines and script otherwise untouched."""
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    for _ in range(_MAX_PASSES):
        cleaned = _clean_once(text)
        if cleaned == text:
            break
        text = cleaned
    return text


def _clean_once(text: str) -> str:
    text = _BOOKMARK.sub("", text)
    lines = [_strip_layout(line) for line in text.split("\n")]
    lines = _drop_bracket_groups(lines)
    lines = _drop_related_tail(lines)
    had_breadcrumb = _has_breadcrumb(lines)
    lines = _drop_breadcrumbs(lines)
    lines = _join_meta_labels(lines)
    n = len(lines)
    kept = []
    for i, line in enumerate(lines):
        at_edge = i < HEAD_LINES or i >= n - TAIL_LINES
        stripped = _strip_inline_chrome(line) if at_edge else line
        if stripped is None or _is_chrome(stripped, at_edge, i >= n - TAIL_LINES):
            continue
        kept.append(stripped)
    if had_breadcrumb:  # a repeated title is page layout only on a web page, not in a law's text
        kept = _drop_repeated_title(kept)
    return _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip()


def _strip_layout(line: str) -> str:
    """Trailing spaces go; leading whitespace goes unless it is a short hanging indent of ASCII spaces."""
    line = line.rstrip()
    indent = _LEADING_SPACE.match(line)
    if indent is None:
        return line
    width = indent.end()
    if set(indent.group()) == {" "} and 2 <= width <= 7:
        return line  # continuation lines of wrapped legal text, nested item levels
    return line[width:]


def _strip_inline_chrome(line: str) -> str | None:
    """Remove font pickers and view counters inside a line; ``None`` if nothing was left."""
    stripped = _FONT_PICKER.sub("", line)
    stripped = _VIEW_COUNT.sub("", stripped)
    if stripped == line:
        return line
    stripped = stripped.rstrip()
    return stripped if stripped.strip() else None


def _is_chrome(line: str, at_edge: bool, in_tail: bool) -> bool:
    stripped = line.strip()
    if not stripped:
        return False
    if _PAGE_FOOTER.match(stripped):
        return True
    if not at_edge:
        return False
    return bool(
        _TOOLBAR_LINE.match(stripped)
        or _SEPARATOR_LINE.match(stripped)
        or _QR_CODE.match(stripped)
        or _SPECIAL_TOPIC.match(stripped)
        or _SHARE.match(stripped)
        or _POSITION.match(stripped)
        or _CRUMB_LINE.match(stripped)
        or (in_tail and _CREDIT.match(stripped))
    )


def _drop_bracket_groups(lines: list[str]) -> list[str]:
    """Drop chrome split over lines in brackets.

    E.g. ``【字号：`` / ``大`` / ``中`` / ``小`` / ``】`` or ``【`` / ``打印本页`` / ``】``.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        end = _bracket_group_end(lines, i) if line.startswith("【") and "】" not in line else None
        if end is not None:
            joined = "".join(part.strip() for part in lines[i : end + 1])
            inner = joined.strip("【】")
            if _FONT_PICKER.fullmatch(joined) or _TOOLBAR_LINE.match(inner):
                i = end + 1
                continue
        out.append(lines[i])
        i += 1
    return out


def _bracket_group_end(lines: list[str], start: int) -> int | None:
    for j in range(start + 1, min(start + 9, len(lines))):
        part = lines[j].strip()
        if part.endswith("】"):
            return j if len(part) <= 8 else None
        if len(part) > 8:
            return None
    return None


def _looks_like_chrome_label(line: str) -> bool:
    return bool(
        _META_LABEL.match(line)
        or _VIEW_COUNT.fullmatch(line)
        or _TOOLBAR_LINE.match(line)
        or line.startswith("【")
    )


def _drop_related_tail(lines: list[str]) -> list[str]:
    """A "相关报道：" heading near the end starts link lists and teasers down to the end of the page."""
    for i in range(max(0, len(lines) - TAIL_LINES), len(lines)):
        if i > 0 and _RELATED.match(lines[i].strip()):
            return lines[:i]
    return lines


def _has_breadcrumb(lines: list[str]) -> bool:
    head = [line.strip() for line in lines[:HEAD_LINES]]
    return any(
        _POSITION.match(line)
        or _CRUMB_LINE.match(line)
        or (_HOME.match(line) and i + 1 < len(head) and _CRUMB_ARROW.match(head[i + 1]))
        for i, line in enumerate(head)
    )


def _drop_breadcrumbs(lines: list[str]) -> list[str]:
    """``首页`` / ``>`` / ``要闻`` … in the head, plus a repeat of the last crumb (the column title)."""
    out = list(lines[:HEAD_LINES])
    i = 0
    while i < len(out):
        if _HOME.match(out[i].strip()) and i + 1 < len(out) and _CRUMB_ARROW.match(out[i + 1].strip()):
            j = i + 1
            while (
                j + 1 < len(out) and _CRUMB_ARROW.match(out[j].strip()) and 0 < len(out[j + 1].strip()) <= 20
            ):
                j += 2
            last = out[j - 1].strip()
            if j < len(out) and out[j].strip() == last:
                j += 1
            del out[i:j]
            continue
        i += 1
    return out + lines[HEAD_LINES:]


def _drop_repeated_title(lines: list[str]) -> list[str]:
    """Pages often print title and subtitle again below the breadcrumb; keep the first copy."""
    first = [i for i, line in enumerate(lines[:TITLE_LINES]) if line.strip()][:2]
    if not first or len(lines[first[0]].strip()) < 6:
        return lines
    title = lines[first[0]].strip()
    for i in range(first[0] + 1, min(len(lines), TITLE_LINES)):
        if lines[i].strip() != title:
            continue
        end = i + 1
        if len(first) == 2 and end < len(lines) and lines[end].strip() == lines[first[1]].strip():
            end += 1
        return lines[:i] + lines[end:]
    return lines


def _join_meta_labels(lines: list[str]) -> list[str]:
    """``来源：`` / ``四川日报`` becomes ``来源：四川日报``; a label with no value (``阅读量：``) goes."""
    out: list[str] = []
    i = 0
    limit = min(len(lines), HEAD_LINES)
    while i < len(lines):
        line = lines[i].strip()
        if i < limit and (_META_LABEL.match(line) or _VIEW_COUNT.fullmatch(line)):
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if _VIEW_COUNT.fullmatch(line):
                i += 2 if nxt.isdigit() else 1
                continue
            if 0 < len(nxt) <= 40 and not _looks_like_chrome_label(nxt):
                out.append(line + nxt)
                i += 2
                continue
            i += 1
            continue
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if i >= len(lines) - TAIL_LINES and _CREDIT_LABEL.match(line) and _NAME_LINE.match(nxt):
            i += 2
            continue
        out.append(lines[i])
        i += 1
    return out
