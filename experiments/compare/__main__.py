"""``python -m experiments.compare``: check the command line, then run the Hydra app."""

from experiments.compare.app import entry

if __name__ == "__main__":
    entry()
