"""Submodels of the monthly schedule, one module per mechanism (vectorised over state arrays)."""
