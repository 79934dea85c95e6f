"""``python -m experiments.validation``: check the command line, then run the Hydra app."""

from experiments.validation.app import entry

if __name__ == "__main__":
    entry()
