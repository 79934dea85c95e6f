"""Budget frontier: one budget split between two levers (``python -m experiments.frontier``)."""
