"""``python -m experiments.shipped``: regenerate every shipped result (``make shipped``)."""

from experiments.shipped.app import main

if __name__ == "__main__":
    main()
