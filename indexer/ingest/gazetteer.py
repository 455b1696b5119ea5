"""China's administrative divisions (province, prefecture, county), from the table shipped with ``cpca``.

Names are Simplified; callers fold Traditional text first. Besides each official name, a county is
also known by its short forms: "酉阳县" for 酉阳土家族苗族自治县, and "湟中区" for 湟中县 (counties
renamed 县 → 区/市 after the table was made keep their stem). Official names win over short forms.

The table has no townships, so a county name shared by two provinces stays ambiguous unless a prefecture
name next to it settles it.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROVINCE, PREFECTURE, COUNTY = 0, 1, 2

# Placeholder rows of the table, not names anyone writes.
_NOT_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
_COUNTY_SUFFIX = re.compile(r"(?:自治县|自治旗|特区|林区|县|区|市|旗)$")
# Short forms a county may go by: many a 县 became 区 or 市 (湟中县 → 湟中区), many a county-level
# city became a district, and an autonomous county is called stem + 县. A 区 keeps its name.
_SHORT_SUFFIXES = {"自治县": ("县", "区", "市"), "自治旗": ("旗",), "县": ("区", "市"), "市": ("区",)}


@dataclass(frozen=True)
class Division:
    code: str  # six digits: province, prefecture, county
    name: str

    @property
    def rank(self) -> int:
        if self.code.endswith("0000"):
            return PROVINCE
        return PREFECTURE if self.code.endswith("00") else COUNTY

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def prefecture_code(self) -> str:
        return self.code[:4] + "00"


def county_stem(name: str, nations: Iterable[str] = ()) -> str:
    """The name without its county suffix and, for autonomous counties, without the peoples' names."""
    stem = _COUNTY_SUFFIX.sub("", name)
    if not name.endswith(("自治县", "自治旗")):
        return stem
    peoples = sorted(
        {p for n in nations for p in (n, n.removesuffix("族")) if len(p) >= 2}, key=len, reverse=True
    )
    changed = True
    while changed:
        changed = False
        for people in peoples:
            if stem.endswith(people) and len(stem) - len(people) >= 2:
                stem = stem[: -len(people)]
                changed = True
                break
    return stem


class Gazetteer:
    """Name → divisions, with longest-match lookup inside a string."""

    def __init__(self, divisions: Iterable[Division], nations: Iterable[str] = ()) -> None:
        nations = tuple(nations)
        self._by_code: dict[str, Division] = {}
        exact: dict[str, list[Division]] = {}
        short: dict[str, list[Division]] = {}
        for d in divisions:
            if d.name in _NOT_NAMES:
                continue
            self._by_code[d.code] = d
            exact.setdefault(d.name, []).append(d)
            if d.rank != COUNTY:
                continue
            stem = county_stem(d.name, nations)
            suffix = next((s for s in _SHORT_SUFFIXES if d.name.endswith(s)), "")
            if len(stem) >= 2 and suffix:
                for short_suffix in _SHORT_SUFFIXES[suffix]:
                    short.setdefault(stem + short_suffix, []).append(d)
        self._names: dict[str, tuple[Division, ...]] = {n: tuple(ds) for n, ds in short.items()}
        self._names.update({n: tuple(ds) for n, ds in exact.items()})  # official names win
        self._max_len = max((len(n) for n in self._names), default=0)

    def lookup(self, name: str) -> tuple[Division, ...]:
        """Divisions called ``name`` (Simplified), official name first, else short form."""
        return self._names.get(name, ())

    def match_at(self, text: str, start: int) -> tuple[str, tuple[Division, ...]] | None:
        """The longest known name beginning at ``text[start]``."""
        for length in range(min(self._max_len, len(text) - start), 1, -1):
            found = self._names.get(text[start : start + length])
            if found:
                return text[start : start + length], found
        return None

    def province_name(self, division: Division) -> str:
        province = self._by_code.get(division.province_code)
        return province.name if province else ""


def _cpca_resources() -> Path:
    # find_spec locates the package without importing it: cpca loads its whole matcher at import time.
    spec = importlib.util.find_spec("cpca")
    if spec is None or spec.origin is None:
        raise RuntimeError(
            "the cpca package (division table) is not installed; install the project's dependencies"
        )
    return Path(spec.origin).parent / "resources"


def read_divisions(path: Path) -> list[Division]:
    """Rows of an ``adcode,name,...`` CSV (12-digit codes, as cpca ships them)."""
    with path.open(encoding="utf-8", newline="") as f:
        return [Division(code=row["adcode"][:6], name=row["name"].strip()) for row in csv.DictReader(f)]


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The national table, read once on first use."""
    resources = _cpca_resources()
    nations_file = resources / "56_nations.csv"
    nations = nations_file.read_text(encoding="utf-8").split() if nations_file.exists() else []
    return Gazetteer(read_divisions(resources / "adcodes.csv"), nations)
