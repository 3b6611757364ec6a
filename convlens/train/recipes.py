"""Named training recipes ``--recipe`` can name, written once: a set of options filled in one word.

A recipe sets the options the user did not give; an option given on the command line, in a config file or as
a keyword of ``convlens.train`` wins over the recipe, even when it spells the default (``--recipe fast
--normalize none``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields
from typing import Any

RECIPES: dict[str, dict[str, Any]] = {
    # The seed's Keras recipe for the augmented small convnet (seed 000, second experiment): RMSprop 1e-4 with a
    # constant rate, 100 epochs × 100 steps × 32 images, the book augmentation, dropout 0.5, Keras' initial weights.
    # An epoch here is one pass over the training photos, so the seed's 320,000 images are 160 passes over the
    # book split's 2,000: the recipe trains the seed's number of images on the seed's data.
    "book": {
        "optimizer": "rmsprop",
        "lr": 1e-4,
        "schedule": "constant",
        "warmup_epochs": 0.0,
        "weight_decay": None,
        "label_smoothing": 0.0,
        "batch_size": 32,
        "epochs": 160,
        "augment": "book",
        "dropout": 0.5,
        "init": "keras",
    },
    # The same network and augmentation in fewer epochs (issue #13, benchmarks/RESULTS.md "Time to the book's
    # accuracy"): Adam with a one-cycle rate peaking at 1e-3, batch 32, Keras' initial weights, 80 epochs, inputs
    # standardised by the training photos. Three seeds: 82 % test at the validation stop (epochs 46-50) in
    # 0.25-0.29 of the Keras recipe's time, 84.5-87.3 % after the 80 epochs (batch 64 for 60 epochs: median 83.5 %).
    "fast": {
        "optimizer": "adam",
        "lr": 1e-3,
        "schedule": "onecycle",
        "warmup_epochs": 0.0,
        "weight_decay": None,
        "label_smoothing": 0.0,
        "batch_size": 32,
        "epochs": 80,
        "augment": "book",
        "dropout": 0.5,
        "init": "keras",
        "normalize": "dataset",
    },
}

SCRATCH_ONLY = ("normalize",)
"""Recipe options left out of a run that does not start a network from scratch (a pretrained base or
``--init-from`` keeps the inputs its weights were trained with)."""


def fill(config: Any, given: Collection[str] | None) -> None:
    """Set ``config.recipe``'s options on ``config`` except those in ``given``.

    ``given`` ``None`` (a :class:`~convlens.train.TrainConfig` built directly) counts an option as given when
    its value differs from the default. :data:`SCRATCH_ONLY` options are skipped unless the network starts
    from scratch.
    """
    defaults = {f.name: f.default for f in fields(config)}
    fresh = config.mode == "scratch" and not config.init_from
    for name, value in RECIPES[config.recipe].items():
        if name in SCRATCH_ONLY and not fresh:
            continue
        unset = getattr(config, name) == defaults[name] if given is None else name not in given
        if unset:
            setattr(config, name, value)
