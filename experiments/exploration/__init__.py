"""Exploring the parameter space: designs over the declared priors, global sensitivity analysis
(``python -m experiments.exploration.sensitivity``) and scenario discovery
(``python -m experiments.exploration.discover``)."""
