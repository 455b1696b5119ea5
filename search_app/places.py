"""Place-name options that answer to either script: 辰溪县 finds 辰溪縣, in the filter box and in a URL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from indexer.analysis import fold


def option_label(value: str, count: int | None) -> str:
    """``辰溪縣（辰溪县） (22)``: the name as written, its folded form when that differs (so typing either
    script finds the option), and the count of the current result set."""
    folded = fold(value)
    name = value if folded == value else f"{value}（{folded}）"
    return name if count is None else f"{name} ({count})"


def known_spellings(wanted: Iterable[str], known: Sequence[str]) -> tuple[str, ...]:
    """The ``known`` values spelled like any of ``wanted`` after folding; a wanted value with no known
    spelling stays as given (it then shows a count of 0 beside no results, which is the truth)."""
    by_fold: dict[str, list[str]] = {}
    for value in known:
        by_fold.setdefault(fold(value), []).append(value)
    out: list[str] = []
    for value in wanted:
        for spelling in by_fold.get(fold(value), [value]):
            if spelling not in out:
                out.append(spelling)
    return tuple(out)
