"""The validation cases, one module per family; each returns a ``scoring.CaseResult``.

* :mod:`.bass`, :mod:`.granovetter`, :mod:`.watts`: reduced forms of the citizens' rule
  (``params.adoption.rule=bass|threshold``) against published diffusion results;
* :mod:`.limits`: limiting configurations of the full rule (``utaut``) with closed forms;
* :mod:`.indonesia`: the profile's initial state against the published marginals it is built to
  meet (input consistency: reported, not scored);
* :mod:`.observed`: the calibration's held-out and growth targets against their 90% posterior
  predictive intervals (scored: the model's dynamics against Indonesian observations);
* :mod:`.ablation`: each factor's mechanism switched off, one outcome and sign named in advance;
* :mod:`.interactions`: 2 x 2 factorials of levers with paired seeds (reported, not scored);
* :mod:`.mechanics`: what the mechanisms imply (reported; the mandate's sign is scored).
"""
