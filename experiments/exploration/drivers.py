"""The parameters the main job's results are most sensitive to, from the Morris screening shipped
with the project (``experiments/data/morris.csv``).

The comparison report names them, so that a reader knows which assumptions to question first. The
file is the ``sensitivity.csv`` of a Morris run over every uncertain parameter at 10,000 citizens x
60 months; ``make shipped ARGS="steps=morris"`` makes it again, with its commit stamp
(``morris.csv.stamp``; README, Shipped results).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim import summary

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "morris.csv"
DOC = "docs/sensitivity.md"


def top_parameters(outcome: str = "adoption_final", k: int = 3, path: Path = SHIPPED) -> list[str]:
    """The ``k`` parameters with the largest Morris mu* for ``outcome`` (empty if it was not screened)."""
    table = pd.read_csv(path)
    rows = table[(table["outcome"] == outcome) & (table["method"] == "morris")]
    return rows.sort_values("mu_star", ascending=False, kind="stable")["parameter"].head(k).tolist()


def headline_sentence(outcome: str = "adoption_final") -> str:
    """One sentence for the report: the three parameters ``outcome`` is most sensitive to, or why none."""
    label = summary.label(outcome)
    try:
        top = top_parameters(outcome)
    except (OSError, KeyError, ValueError):
        top = []
    if not top:
        return f"No Morris screening of {outcome} is shipped with this version ({DOC} says how to run one)."
    names = ", ".join(top)
    return (f"Sensitivity: {label} is most sensitive to {names} (Morris screening of every uncertain "
            f"parameter, baseline scenario; {DOC}, make sensitivity).")
