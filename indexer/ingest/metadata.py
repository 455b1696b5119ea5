"""Report metadata read from a report's own text: title, places, year, publication date, issuer.

Only the places a report names about itself are read: the title, the header lines under it (addressee,
"发布时间/信息来源") and the closing signature. The body is not searched for places, because it names other
townships and words like 乡村/城乡 too often. What is not stated stays empty: nothing is guessed.

Values keep the document's own script (船溪鄉, 辰溪縣); matching runs on the folded (Simplified) text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from indexer.analysis import fold_with_offsets
from indexer.ingest.gazetteer import COUNTY, PREFECTURE, PROVINCE, Division, Gazetteer, default_gazetteer
from indexer.models import ReportMeta

__all__ = ["extract_meta"]

_HAN = "\u4e00-\u9fff"
_MAX_TITLE = 100
_MAX_TITLE_TAIL = 40
_MAX_HEADER_LINES = 4
_CLOSING_LINES = 8  # non-empty lines looked at from the end
_DATE_LINES = 5  # a closing date must be among the last five lines

_ARTIFACT = re.compile(r"\[bookmark:[^\]]*\]")
# Web-page chrome that scraped pages start with (下载 打印 全屏 收藏 【字号：加大 还原 减小】).
_CHROME = frozenset(
    {"下载", "打印", "全屏", "收藏", "【字号:", "【字号：", "加大", "还原", "减小", "】", "关闭窗口"}
)

_TITLE_END = re.compile(r"(?:报告|总结|情况|汇报|要点|计划|方案|通知|意见|述职|述法)$")
_SENTENCE_PUNCT = re.compile(r"[。，；,;：:]")
_HEADER_FIELD = re.compile(r"(?:发布时间|发布日期|信息来源|来源|时间|日期|作者|字号|浏览次数|点击数)\s*[:：]")
_ADDRESSEE = re.compile(r"[:：]$")

_DIGITS = r"[0-9〇零○o一二三四五六七八九十]"
_DATE = re.compile(rf"({_DIGITS}{{4}})\s*[-/.年]\s*({_DIGITS}{{1,3}})\s*[-/.月]\s*({_DIGITS}{{1,3}})\s*日?")
_PUBLISHED_FIELD = re.compile(rf"(?:发布|发文|成文|印发)?(?:时间|日期)\s*[:：]\s*{_DATE.pattern}")
_DATE_LINE = re.compile(rf"^{_DATE.pattern}$")
_FOOTER = re.compile(
    r"^[\s\-—–_·•]*(?:第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\d+(?:\s*/\s*\d+)?)[\s\-—–_·•]*$"
    r"|^[(（]此件[^)）]*[)）]$"
)
# How a signing body's name ends (a bare 局 would also end 格局/大局).
_ORG = re.compile(
    r"(?:人民政府|政府|委员会|党委|党工委|工委|办事处|管委会|司法所|主席团|办公室|[省市县区旗]委"
    r"|(?:司法|公安|财政|税务|管理|执法|教育|民政|分)局)$"
)

_TITLE_YEAR = re.compile(rf"({_DIGITS}{{4}})\s*年")
_OPENING_YEAR = re.compile(r"((?:19|20)\d{2})\s*年度?\s*(?:以来|[，,、])")

# Townships: a name of two to six characters before 乡/镇/街道/苏木 (民族乡 first, so it is kept whole).
_TOWNSHIP = re.compile(rf"([{_HAN}]{{2,6}}?)(民族乡|乡|镇|街道|苏木)")
# What a title or signature may put before its place names.
_LEAD = re.compile(r"(?:关于|中共|(?:19|20)\d{2}\s*年度?)?")
# Common words that end in 乡/镇/街道 and are not names (城乡, 全乡, 依法治乡, 乡镇, 城镇 ...).
# Names may well end in 城乡 or 城镇 (金城乡), so only words that are never part of a name are listed.
_NOT_TOWNSHIP_TAIL = frozenset(
    {"全乡", "我乡", "本乡", "各乡", "该乡", "治乡", "下乡", "返乡", "家乡", "老乡", "同乡", "故乡"}
    | {"异乡", "他乡", "梦乡", "离乡", "思乡", "乡镇", "全镇", "我镇", "本镇", "各镇", "该镇", "治镇"}
    | {"坐镇", "强镇", "名镇", "重镇", "小镇", "全街", "各街", "本街", "该街"}
)
# A stem holding 省/市/县/区 has a division glued in front that the table does not know.
_NOT_IN_TOWNSHIP = re.compile(
    r"[的和与及在了对为年是从向把将省市县区]|关于|政府|人民|委员|党委|建设|法治|文化"
)
# What a township with no county before it must be followed by: a title or signature goes on
# with a year, 关于, 人民政府, 党委 ...; a sentence would go on with anything.
_BARE_TOWNSHIP_NEXT = re.compile(
    rf"(?:$|[^{_HAN}]|关于|人民政府|政府|党委|党工委|委|法治|依法|年度|上半年|下半年|全面|推进|工作|办事处|二〇|二零)"
)
_TOWNSHIP_BAD_NEXT = {"乡": "村镇土愁亲贤情音", "镇": "压定静守名村"}
# What may follow a place name for it to count as one (not a piece of a longer word).
_PLACE_NEXT = re.compile(rf"(?:$|[^{_HAN}]|委|人民|政府|党|关于|法治|依法|司法|人大|年)")
# What may precede a place name: line start, a non-Han character, 中共, a year, or a higher division.
_PLACE_BEFORE = frozenset("共年于省市州盟区县旗")


@dataclass(frozen=True)
class _Line:
    text: str  # original script
    folded: str
    offsets: tuple[int, ...]

    def original(self, start: int, end: int) -> str:
        return self.text[self.offsets[start] : self.offsets[end]]


@dataclass(frozen=True)
class _Place:
    text: str
    divisions: tuple[Division, ...]

    @property
    def rank(self) -> int:
        return min(d.rank for d in self.divisions)


@dataclass(frozen=True)
class _Places:
    hits: tuple[_Place, ...]
    county: _Place | None
    township: str


def _line(text: str) -> _Line:
    folded, offsets = fold_with_offsets(text)
    return _Line(text, folded, tuple(offsets))


def _clean_lines(text: str) -> list[str]:
    lines = (_ARTIFACT.sub("", raw).strip(" \t\u3000\ufeff\u200b\xa0") for raw in text.splitlines())
    return [line for line in lines if line]


def _strip_chrome(lines: list[str]) -> list[str]:
    start = 0
    while start < len(lines) and lines[start] in _CHROME:
        start += 1
    return lines[start:]


# --- title and header -------------------------------------------------------------------------------


def _is_header(line: _Line) -> bool:
    folded = line.folded
    if folded.startswith(("—", "--")):  # subtitle: ——2026年2月3日在……会议上
        return True
    if len(folded) <= 40 and _ADDRESSEE.search(folded):
        return True
    return len(folded) <= 80 and bool(_HEADER_FIELD.search(folded)) and not folded.endswith("。")


def _title_lines(lines: Sequence[_Line]) -> int:
    """How many of the first lines make up the title (0, 1 or 2)."""
    if not lines:
        return 0
    first = lines[0].folded
    if len(first) > _MAX_TITLE or first.endswith("。") or _is_header(lines[0]):
        return 0
    if len(lines) > 1 and not _TITLE_END.search(first):
        second = lines[1]
        if (
            len(second.folded) <= _MAX_TITLE_TAIL
            and _TITLE_END.search(second.folded)
            and not _SENTENCE_PUNCT.search(second.folded)
            and not _is_header(second)
        ):
            return 2
    return 1


# --- dates -------------------------------------------------------------------------------------------

_CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "○": 0, "o": 0}


def _number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    if "十" in token:  # 十, 十九, 二十, 三十一
        tens, _, units = token.partition("十")
        high = _CN_DIGIT.get(tens, -1) if tens else 1
        low = _CN_DIGIT.get(units, -1) if units else 0
        return None if high < 0 or low < 0 else high * 10 + low
    digits = [_CN_DIGIT.get(c) for c in token]
    return None if None in digits else int("".join(str(d) for d in digits))


def _iso_date(match: re.Match[str]) -> str:
    year, month, day = (_number(g) for g in match.groups()[-3:])
    if year is None or month is None or day is None:
        return ""
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return ""


def _year(value: int | None) -> int | None:
    return value if value is not None and 1949 <= value <= 2100 else None


def _title_year(folded_title: str) -> int | None:
    for match in _TITLE_YEAR.finditer(folded_title):
        year = _year(_number(match.group(1)))
        if year is not None:
            return year
    return None


def _opening_year(paragraph: str) -> int | None:
    match = _OPENING_YEAR.search(paragraph)
    return _year(int(match.group(1))) if match else None


# --- closing signature -------------------------------------------------------------------------------


def _closing(lines: Sequence[_Line]) -> tuple[list[_Line], str]:
    """Issuer lines (document order) and the closing date, read upwards from the end."""
    issuers: list[_Line] = []
    date = ""
    for distance, line in enumerate(reversed(lines[-_CLOSING_LINES:])):
        folded = line.folded
        if _FOOTER.match(folded):
            continue
        whole_date = _DATE_LINE.match(folded)
        if whole_date:
            if distance < _DATE_LINES and not date:
                date = _iso_date(whole_date)
            continue
        org = folded
        trailing_date = _DATE.search(folded)
        if trailing_date and trailing_date.end() == len(folded):  # "金城乡人民政府 2024年1月19日"
            org = folded[: trailing_date.start()].rstrip()
            if distance < _DATE_LINES and not date:
                date = _iso_date(trailing_date)
        parts = _org_parts(line, len(org))
        if not parts:
            break
        issuers[:0] = parts
    return issuers, date


def _org_parts(line: _Line, length: int) -> list[_Line]:
    """The organisations one signature line names ("中共金城乡委员会    金城乡人民政府" names two)."""
    folded = line.folded[:length]
    if not folded or len(folded) > 60 or _SENTENCE_PUNCT.search(folded):
        return []
    parts = list(re.finditer(r"\S+", folded))
    if not all(_ORG.search(m.group()) and len(m.group()) <= 30 for m in parts):
        return []
    return [_line(line.original(m.start(), m.end())) for m in parts]


# --- places --------------------------------------------------------------------------------------------


def _township_at(line: _Line, start: int, bare: bool) -> str:
    """The township named at ``line.folded[start:]``, or ""."""
    folded = line.folded
    match = _TOWNSHIP.match(folded, start)
    if not match:
        return ""
    stem, suffix = match.groups()
    if stem[-1] + suffix[0] in _NOT_TOWNSHIP_TAIL or _NOT_IN_TOWNSHIP.search(stem):
        return ""
    after = match.end()
    if bare and not _BARE_TOWNSHIP_NEXT.match(folded, after):
        return ""
    if after < len(folded) and folded[after] in _TOWNSHIP_BAD_NEXT.get(suffix, ""):
        return ""
    return line.original(match.start(), after)


def _scan(line: _Line, gazetteer: Gazetteer, leading: bool) -> tuple[list[_Place], str, _Place | None]:
    """Places named in one line: division hits, a township, and the division the township follows.

    With ``leading`` (a title) only a chain of places at the start counts (湟中区土门关乡…): a title that
    names a place further on (…诉某县人民政府…案) is about something else.
    """
    folded = line.folded
    start = _LEAD.match(folded).end()  # type: ignore[union-attr]
    hits: list[_Place] = []
    township, parent = "", None
    i = start
    while i < len(folded):
        match = gazetteer.match_at(folded, i) if i == start or _boundary(folded[i - 1]) else None
        end = i + len(match[0]) if match else i
        follows = _township_at(line, end, bare=False) if match else ""
        if match and (follows or _PLACE_NEXT.match(folded, end) or gazetteer.match_at(folded, end)):
            place = _Place(line.original(i, end), match[1])
            hits.append(place)
            if follows and not township:
                township, parent = follows, place
            i = end
        elif leading:
            break
        else:
            i += 1
    if not township and not gazetteer.match_at(folded, start):
        township = _township_at(line, start, bare=True)  # a title or signature that starts with the township
    return hits, township, parent


def _boundary(previous: str) -> bool:
    return not ("\u4e00" <= previous <= "\u9fff") or previous in _PLACE_BEFORE


def _places(lines: Sequence[_Line], gazetteer: Gazetteer, title: bool) -> _Places:
    """Places named in ``lines`` (the title first when ``title``), earlier lines first."""
    hits: list[_Place] = []
    township = ""
    county: _Place | None = None
    fallback: _Place | None = None  # a prefecture-level city with townships directly under it (东莞市X镇)
    for n, line in enumerate(lines):
        line_hits, line_township, parent = _scan(line, gazetteer, leading=n == 0 and title)
        hits.extend(line_hits)
        township = township or line_township
        if county is None:
            county = next((h for h in line_hits if h.rank == COUNTY), None)
        if fallback is None and parent is not None and parent.rank == PREFECTURE:
            fallback = parent
    return _Places(tuple(hits), county or fallback, township)


def _province(places: _Places, gazetteer: Gazetteer) -> str:
    """The province, when the names found settle it on one."""
    if places.county is not None:
        candidates = places.county.divisions
        prefectures = {d.code for h in places.hits for d in h.divisions if d.rank == PREFECTURE}
        provinces = {d.code for h in places.hits for d in h.divisions if d.rank == PROVINCE}
        for narrow in (
            lambda d: d.prefecture_code in prefectures,
            lambda d: d.province_code in provinces,
        ):
            narrowed = tuple(d for d in candidates if narrow(d))
            if narrowed:
                candidates = narrowed
    else:
        candidates = tuple(d for h in places.hits if h.rank <= PREFECTURE for d in h.divisions)
    names = {gazetteer.province_name(d) for d in candidates}
    return names.pop() if len(names) == 1 else ""


# --- entry point ---------------------------------------------------------------------------------------


def extract_meta(text: str, source: str = "", gazetteer: Gazetteer | None = None) -> ReportMeta:
    """Metadata a report states about itself; ``source`` (the file it came from) is passed through."""
    if not isinstance(text, str):
        raise TypeError(f"{source or 'report'}: text must be str, not {type(text).__name__}")
    raw_lines = _strip_chrome(_clean_lines(text))
    head = [_line(raw) for raw in raw_lines[: 2 + _MAX_HEADER_LINES + 1]]
    n_title = _title_lines(head)
    title_line = _line("".join(line.text for line in head[:n_title]))
    header: list[_Line] = []
    for line in head[n_title : n_title + _MAX_HEADER_LINES]:
        if not _is_header(line):
            break
        header.append(line)
    body_start = n_title + len(header)
    opening = head[body_start].folded if body_start < len(head) else ""
    tail = [_line(raw) for raw in raw_lines[max(body_start + 1, len(raw_lines) - _CLOSING_LINES) :]]
    issuers, closing_date = _closing(tail)

    published = ""
    for line in header:
        match = _PUBLISHED_FIELD.search(line.folded)
        if match:
            published = _iso_date(match)
            break

    gazetteer = gazetteer or default_gazetteer()
    place_lines = ([title_line] if n_title else []) + header + issuers
    places = _places(place_lines, gazetteer, title=n_title > 0)
    year = _title_year(title_line.folded) if n_title else None
    return ReportMeta(
        title=title_line.text,
        township=places.township,
        county=places.county.text if places.county else "",
        province=_province(places, gazetteer),
        year=year if year is not None else _opening_year(opening),
        published=published or closing_date,
        issuer="、".join(line.text for line in issuers),
        source=source,
    )
