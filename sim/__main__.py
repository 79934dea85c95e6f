"""``python -m sim``: run one simulation (Hydra app; see sim/cli.py)."""

from sim.cli import entry

if __name__ == "__main__":
    entry()
