"""Figures in folded text: a number (Arabic or Chinese, 万/亿, decimals, percentages) with its unit.

The text must be folded first (``indexer.analysis.fold``): full-width digits and ％ are then ASCII.
Chinese numerals are converted by ``cn2an``; Arabic ones (with thousands separators and a 万/亿 suffix)
here. A figure is only a number followed by a unit of count: years (2023年), dates (11月29日) and heading
numbers (一、 1.) have none and never match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

__all__ = ["UNITS", "Figure", "find_figures", "parse_number"]

# Longest first, so 人次 wins over 人 and 场次 over 场.
UNITS: tuple[str, ...] = (
    "场次",
    "人次",
    "批次",
    "户次",
    "件次",
    "件",
    "起",
    "宗",
    "次",
    "场",
    "期",
    "名",
    "人",
    "位",
    "份",
    "册",
    "本",
    "个",
    "户",
    "条",
    "篇",
    "张",
    "幅",
    "轮",
    "家",
    "所",
    "处",
    "项",
    "%",
)

_CN_DIGITS = "零〇一二两三四五六七八九"
_CN_NUMBER = f"[{_CN_DIGITS}十百千万亿]*[{_CN_DIGITS}十][{_CN_DIGITS}十百千万亿]*(?:点[{_CN_DIGITS}]+)?"
_AR_NUMBER = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:万|亿)?"
_PREFIX_APPROX = "近|约|超过|超|逾|大约|将近|接近"
_SUFFIX_APPROX = "以上|左右|余|多"

_FIGURE_RE = re.compile(
    rf"(?P<pre>{_PREFIX_APPROX})?"
    rf"(?:百分之(?P<pct>{_CN_NUMBER}|{_AR_NUMBER})"
    rf"|(?<![\d.A-Za-z\-])(?P<ar>{_AR_NUMBER})(?![\d\-])"
    rf"|(?P<cn>{_CN_NUMBER}))"
    rf"(?P<mid>余|多)?"
    rf"(?P<unit>{'|'.join(re.escape(u) for u in UNITS)})?"
    rf"(?P<post>{_SUFFIX_APPROX})?"
)

_MAX_DIGITS = 9  # longer digit runs are phone, id or account numbers, not counts


@dataclass(frozen=True)
class Figure:
    """A figure found in folded text: ``[start, end)`` covers approximation words, number and unit."""

    start: int
    end: int
    number_start: int
    value: float
    unit: str
    approx: bool


@lru_cache(maxsize=4096)
def _cn_value(text: str) -> float:
    import cn2an  # local: about 0.3 s to import, only needed once Chinese numerals occur

    return float(cn2an.cn2an(text, "smart"))


def parse_number(text: str) -> float:
    """The value of an Arabic or Chinese number (``"1,500"``, ``"3.26万"``, ``"一千二百"``, ``"两"``).

    Raises ValueError when ``text`` is not a number.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty number")
    scale = 1
    if text[-1] in "万亿" and text[:-1] and text[-2].isdigit():
        scale = 10_000 if text[-1] == "万" else 100_000_000
        text = text[:-1]
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", text):
        return float(Decimal(text.replace(",", "")) * scale)  # decimal: 3.26万 is 32600, not 32599.99…
    try:
        return _cn_value(text) * scale
    except (ValueError, KeyError) as exc:
        raise ValueError(f"not a number: {text!r}") from exc
    except Exception as exc:  # cn2an raises a bare ValueError subclass or others on odd input
        raise ValueError(f"not a number: {text!r}: {exc}") from exc


def find_figures(folded: str) -> list[Figure]:
    """Every number followed by a unit in ``folded`` (numbers without a unit are skipped)."""
    figures = []
    for match in _FIGURE_RE.finditer(folded):
        number = match.group("pct") or match.group("ar") or match.group("cn")
        unit = "%" if match.group("pct") else match.group("unit")
        if not number or not unit:
            continue
        if match.group("ar") and len(re.sub(r"\D", "", number.split(".")[0])) > _MAX_DIGITS:
            continue
        try:
            value = parse_number(number)
        except ValueError:
            continue
        approx = bool(match.group("pre") or match.group("mid") or match.group("post"))
        number_start = match.end("pre") if match.group("pre") else match.start()
        # 以上/左右 read as approximation only after the unit; "多" after a unit ("一年多") is not ours.
        end = match.end()
        if match.group("post") == "多":
            end = match.start("post")
            approx = bool(match.group("pre") or match.group("mid"))
        figures.append(Figure(match.start(), end, number_start, value, unit, approx))
    return figures
