"""Policy comparison, the main job: every policy scenario x seeds (``python -m experiments.compare``)."""
