"""A small comparison and a small frontier write the same tables as the stored references.

The references (``tests/e2e/reference/``) were made by ``python -m tests.e2e.reference``; a change of
behaviour on purpose makes them again (see that module). Values must agree within float round-off
(a sum taken in another order), columns exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.e2e.reference import REFERENCE_DIR, TABLES, produce


@pytest.fixture(scope="module")
def produced(tmp_path_factory):
    return produce(tmp_path_factory.mktemp("reference"))


@pytest.mark.parametrize("name", [name for files in TABLES.values() for name in files.values()])
def test_table_matches_the_stored_reference(produced, name):
    stored = pd.read_csv(REFERENCE_DIR / name)
    # through CSV, as the reference went: the same text for text, the same parsing for numbers
    fresh = pd.read_csv(pd.io.common.StringIO(produced[name].to_csv(index=False, float_format="%.17g")))
    hint = "if the change is on purpose, run: .venv/bin/python -m tests.e2e.reference"
    assert list(fresh.columns) == list(stored.columns), (
        f"{name}: columns differ: new {sorted(set(fresh.columns) - set(stored.columns))}, "
        f"gone {sorted(set(stored.columns) - set(fresh.columns))}; {hint}")
    assert len(fresh) == len(stored), f"{name}: {len(fresh)} rows against {len(stored)}; {hint}"
    for column in stored.columns:
        a, b = fresh[column], stored[column]
        if pd.api.types.is_numeric_dtype(b) and pd.api.types.is_numeric_dtype(a):
            close = np.isclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, atol=1e-12, equal_nan=True)
            assert close.all(), (f"{name}.{column}: {int((~close).sum())} values differ, first at row "
                                 f"{int(np.argmin(close))}: {a[~close].iloc[0]!r} against "
                                 f"{b[~close].iloc[0]!r}; {hint}")
        else:
            same = a.fillna("").astype(str).equals(b.fillna("").astype(str))
            assert same, f"{name}.{column} differs; {hint}"
