"""Typed errors whose messages say how to fix the problem.

The CLI turns any :class:`ConvlensError` into one red line and a non-zero exit;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations


class ConvlensError(Exception):
    """Base class of every error convlens raises on purpose."""

    exit_code: int = 1


class DataError(ConvlensError):
    """The data on disk is not what the command needs."""


class NotAnImageFolder(DataError):
    """A folder lacks the ``<root>/<class>/<image>`` layout."""


class SplitError(DataError):
    """A split cannot be made as asked."""


class UnknownName(ConvlensError):
    """A registry was asked for a name it does not hold."""


class WeightsNotFound(ConvlensError):
    """Pretrained weights are not available offline."""


class CheckpointError(ConvlensError):
    """A checkpoint is missing, corrupt or does not match the model."""


class ConfigError(ConvlensError):
    """Options contradict each other or a config file is malformed."""


class TrainingError(ConvlensError):
    """Training had to stop (NaN loss, mismatched resume, ...)."""


class RunError(ConvlensError):
    """A run folder cannot be used as asked (not a run, locked by another process, damaged)."""


class ExplainError(ConvlensError):
    """An explanation cannot be made as asked."""


class LayerNotFound(ExplainError, ConfigError):
    """A layer name is not in the model, or the layer has no spatial output."""


class Cancelled(ConvlensError):
    """The user (or the web app) cancelled a long job; what was written so far is kept."""

    exit_code = 130


class MissingExtra(ConvlensError):
    """An optional feature needs packages of an extra that is not installed."""


class ExportError(ConvlensError):
    """A model cannot be exported, or the exported file does not compute what the model does."""
