"""Precision and recall of the extractor against a golden file of figures read off reports by hand.

Golden file: one JSON object per line with ``seed`` (a file name under the reports directory), ``kind``,
``value``, ``unit``, ``approx`` and ``phrase`` (where the figure stands, in the report's own script).
An extracted indicator matches a golden figure of the same report with the same kind, value and unit
(each golden figure matches at most once); ``approx`` disagreements are counted, not failed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexer.models import Indicator

__all__ = ["GoldFigure", "Score", "evaluate", "format_score", "load_golden"]


@dataclass(frozen=True)
class GoldFigure:
    seed: str
    kind: str
    value: float
    unit: str
    approx: bool
    phrase: str

    @property
    def key(self) -> tuple[str, float, str]:
        return (self.kind, float(self.value), self.unit)


@dataclass
class Score:
    golden: int = 0
    extracted: int = 0
    matched: int = 0
    approx_disagreements: int = 0
    misses: list[GoldFigure] = field(default_factory=list)  # golden figures not extracted
    spurious: list[tuple[str, Indicator]] = field(default_factory=list)  # (seed, indicator) not in golden
    per_seed: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # golden, extracted, matched

    @property
    def precision(self) -> float:
        return self.matched / self.extracted if self.extracted else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.golden if self.golden else 0.0


def load_golden(path: Path) -> list[GoldFigure]:
    figures = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                figures.append(
                    GoldFigure(
                        seed=str(data["seed"]),
                        kind=str(data["kind"]),
                        value=float(data["value"]),
                        unit=str(data["unit"]),
                        approx=bool(data.get("approx", False)),
                        phrase=str(data.get("phrase", "")),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a golden figure: {exc}") from exc
    return figures


def evaluate(golden: Sequence[GoldFigure], extract: Callable[[str], Iterable[Indicator]]) -> Score:
    """Score ``extract(seed)`` (the indicators of one report) against ``golden``, report by report."""
    score = Score(golden=len(golden))
    by_seed: dict[str, list[GoldFigure]] = {}
    for figure in golden:
        by_seed.setdefault(figure.seed, []).append(figure)
    for seed, figures in by_seed.items():
        extracted = list(extract(seed))
        unmatched = list(figures)
        matched = 0
        for indicator in extracted:
            key = (indicator.kind, float(indicator.value), indicator.unit)
            hit = next((g for g in unmatched if g.key == key), None)
            if hit is None:
                score.spurious.append((seed, indicator))
                continue
            unmatched.remove(hit)
            matched += 1
            if hit.approx != indicator.approx:
                score.approx_disagreements += 1
        score.misses.extend(unmatched)
        score.extracted += len(extracted)
        score.matched += matched
        score.per_seed[seed] = (len(figures), len(extracted), matched)
    return score


def _value(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _context(indicator: Indicator, width: int = 20) -> str:
    """The figure with the words before it, from its source sentence."""
    start = max(0, indicator.figure_start - indicator.start - width)
    return indicator.text[start : indicator.figure_end - indicator.start]


def format_score(score: Score) -> str:
    lines = [
        f"golden {score.golden}  extracted {score.extracted}  matched {score.matched}",
        f"precision {score.precision:.3f}  recall {score.recall:.3f}  "
        f"approx disagreements {score.approx_disagreements}",
        "",
        "per report: golden / extracted / matched",
    ]
    lines += [f"  {seed}: {g} / {e} / {m}" for seed, (g, e, m) in sorted(score.per_seed.items())]
    misses = Counter(f.kind for f in score.misses)
    lines += ["", f"misses per kind ({len(score.misses)}):"]
    lines += [f"  {kind}: {n}" for kind, n in misses.most_common()]
    lines += [f"    {f.seed}: {_value(f.value)}{f.unit}  {f.phrase}" for f in score.misses]
    lines += ["", f"extracted but not golden ({len(score.spurious)}):"]
    lines += [f"  {seed}: {i.kind} {_value(i.value)}{i.unit}  {_context(i)}" for seed, i in score.spurious]
    return "\n".join(lines)
