"""Bayesian calibration against Indonesian data, with an out-of-sample test (``make calibrate``).

- :mod:`.targets`: the published figures and their error model (``configs/calibration/targets.yaml``);
- :mod:`.config`: the app's settings and their checks;
- :mod:`.inference`: ABC with pyabc (rejection, or ABC-SMC) over the uncertain parameters' priors;
- :mod:`.outputs`: posterior predictive, ``calibration.json``, identification, figures, report;
- :mod:`.posterior`: reading the shipped posterior for the comparison (``uncertainty=posterior``).
"""
