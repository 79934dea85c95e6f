"""Validation of the model: ``python -m experiments.validation`` (``make validate``).

Modules: :mod:`.app` (the Hydra app and its schema), :mod:`.cases` (one module per case family),
:mod:`.theory` (the closed forms and analytic results), :mod:`.scoring` (how a check passes or
fails), :mod:`.runner` (the runs, in parallel on local cores) and :mod:`.report` (json, md, html,
figures). What is checked, how, and what the model cannot claim: docs/validation.md.
"""
