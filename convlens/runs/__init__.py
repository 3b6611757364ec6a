"""Run folders: :class:`RunDir` owns every file of a run, and :func:`load_run` loads the model of any run.

A run folder (``convlens train --out RUN``) holds ``config.json`` (how to rebuild the model, the classes, the
training options, the environment), ``model.safetensors`` (the last epoch), ``best/`` (the lowest validation
loss), ``history.csv``/``.json``, the curves, the resume state (``train_state.json`` pointing at
``resume/epoch-NNNN/``), and what evaluation and the report add (``metrics_<split>.json``,
``predictions_<split>.json``, figures, ``report.html``). Nothing here unpickles.
"""

from convlens.runs._load import load_run, saved_inputs
from convlens.runs.rundir import RunDir

__all__ = ["RunDir", "load_run", "saved_inputs"]
