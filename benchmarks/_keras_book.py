"""The seed's Keras pieces, written once for the benchmarks that time Keras as the peer: the book augmentation
(as Keras 3 preprocessing layers) and the small convnet (3,453,121 parameters) compiled with RMSprop 1e-4."""

from __future__ import annotations

from typing import Any


def book_augmentation(keras: Any) -> Any:
    """Rescale to [0, 1], then rotation 40°, shifts 0.2, shear 0.2, zoom 0.2, horizontal flip."""
    layers = keras.layers
    return keras.Sequential(
        [
            layers.Rescaling(1.0 / 255),
            layers.RandomRotation(40 / 360, fill_mode="nearest"),
            layers.RandomTranslation(0.2, 0.2, fill_mode="nearest"),
            layers.RandomShear(0.2, 0.2, fill_mode="nearest"),
            layers.RandomZoom(0.2, fill_mode="nearest"),
            layers.RandomFlip("horizontal"),
        ]
    )


def book_convnet(keras: Any, size: int) -> Any:
    """The seed's small convnet with dropout 0.5, compiled as the seed (binary cross-entropy, RMSprop 1e-4)."""
    layers = keras.layers
    blocks = [layer for filters in (32, 64, 128, 128) for layer in (layers.Conv2D(filters, 3, activation="relu"),
                                                                     layers.MaxPooling2D(2))]  # fmt: skip
    model = keras.Sequential(
        [
            keras.Input((size, size, 3)),
            *blocks,
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(512, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.RMSprop(1e-4), metrics=["acc"])
    assert model.count_params() == 3_453_121, model.count_params()
    return model
