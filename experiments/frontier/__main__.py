"""``python -m experiments.frontier``: check the command line, then run the Hydra app."""

from experiments.frontier.app import entry

if __name__ == "__main__":
    entry()
