"""``python -m experiments.calibration``: check the command line, then run the Hydra app."""

from experiments.calibration.app import entry

if __name__ == "__main__":
    entry()
