"""Named training recipes ``--recipe`` can name, written once: a set of options filled in one word.

A recipe sets the options that were left at their defaults; an option given by the user (or a config file)
with a value other than the default wins over the recipe.
"""

from __future__ import annotations

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
    # accuracy"): Adam with a one-cycle rate peaking at 1e-3, batch 64, Keras' initial weights, 60 epochs, inputs
    # standardised by the training photos (same seed: validation ahead on 51 of 60 epochs, 84 % reached at 54).
    "fast": {
        "optimizer": "adam",
        "lr": 1e-3,
        "schedule": "onecycle",
        "warmup_epochs": 0.0,
        "weight_decay": None,
        "label_smoothing": 0.0,
        "batch_size": 64,
        "epochs": 60,
        "augment": "book",
        "dropout": 0.5,
        "init": "keras",
        "normalize": "dataset",
    },
}

SCRATCH_ONLY = ("normalize",)
"""Recipe options left out of a run that does not start a network from scratch (a pretrained base or
``--init-from`` keeps the inputs its weights were trained with)."""
