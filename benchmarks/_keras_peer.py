"""Keras 3 / TF-CPU throughput of the book recipe (issue #13 target): small convnet + book augmentation,
RMSprop 1e-4, batch 32, 150x150, ``--epochs`` x ``--steps`` steps, from the JPEG files of the book split.

    --aug legacy   keras.src.legacy.preprocessing.image.ImageDataGenerator (the seed's own class; Keras 3
                   keeps it only under keras.src.legacy, the public keras.preprocessing.image no longer has it)
                   + flow_from_directory, exactly as the book (rescale 1/255, rotation 40, shifts 0.2,
                   shear 0.2, zoom 0.2, h-flip, nearest fill)
    --aug layers   image_dataset_from_directory + RandomRotation/RandomTranslation/RandomShear/RandomZoom/RandomFlip

Prints one JSON line: wall and process-CPU seconds per epoch, images/s, load average.

    /work/main/.venv/bin/python benchmarks/_keras_peer.py --split /tmp/cvd_split --aug legacy
"""

from __future__ import annotations

import argparse
import json
import os
import time

T0 = time.perf_counter()
C0 = time.process_time()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--split", default="/tmp/cvd_split")
    p.add_argument("--aug", choices=["legacy", "layers"], default="legacy")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--threads", type=int, default=0, help="TF intra-op threads (0: TF default); inter-op stays default")
    args = p.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    import keras
    from _keras_book import book_augmentation, book_convnet

    keras.utils.set_random_seed(0)
    size, batch = 150, 32
    if args.aug == "legacy":
        from keras.src.legacy.preprocessing.image import ImageDataGenerator

        gen = ImageDataGenerator(
            rescale=1.0 / 255, rotation_range=40, width_shift_range=0.2, height_shift_range=0.2,
            shear_range=0.2, zoom_range=0.2, horizontal_flip=True, fill_mode="nearest",
        )  # fmt: skip
        flow = gen.flow_from_directory(
            os.path.join(args.split, "train"), target_size=(size, size), batch_size=batch, class_mode="binary"
        )

        def forever():  # Keras 3 treats the iterator as a finite PyDataset (63 batches); the book's
            while True:  # fit_generator(steps_per_epoch=100) read an endless generator
                for i in range(len(flow)):
                    yield flow[i]
                flow.on_epoch_end()

        data = forever()
    else:
        ds = keras.utils.image_dataset_from_directory(
            os.path.join(args.split, "train"), image_size=(size, size), batch_size=batch, label_mode="binary",
            shuffle=True, seed=0,
        )  # fmt: skip
        aug = book_augmentation(keras)
        data = ds.map(lambda x, y: (aug(x, training=True), y)).repeat()
    model = book_convnet(keras, size)

    marks = []

    class Mark(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            marks.append(("begin", time.perf_counter(), time.process_time(), os.getloadavg()[0]))

        def on_epoch_end(self, epoch, logs=None):
            marks.append(("end", time.perf_counter(), time.process_time(), os.getloadavg()[0]))

    startup_s = time.perf_counter() - T0
    model.fit(data, epochs=args.epochs, steps_per_epoch=args.steps, verbose=0, callbacks=[Mark()])
    total_s = time.perf_counter() - T0
    total_cpu = time.process_time() - C0
    images = batch * args.steps
    epochs = []
    for i in range(args.epochs):
        b, e = marks[2 * i], marks[2 * i + 1]
        epochs.append({"wall_s": round(e[1] - b[1], 1), "cpu_s": round(e[2] - b[2], 1),
                       "img_s": round(images / (e[1] - b[1]), 1), "img_cpu_s": round(images / (e[2] - b[2]), 1),
                       "load": round(e[3], 2)})  # fmt: skip
    out = {
        "keras": keras.__version__, "tf": tf.__version__, "aug": args.aug, "threads": args.threads or "default",
        "startup_s": round(startup_s, 1), "total_s": round(total_s, 1), "total_cpu_s": round(total_cpu, 1),
        "images": images * args.epochs, "img_s_overall": round(images * args.epochs / total_s, 1),
        "epochs": epochs,
        "recipe_320k_s_from_last_epoch": round(startup_s + 320_000 / epochs[-1]["img_s"], 0),
        "load_end": round(os.getloadavg()[0], 2),
    }  # fmt: skip
    print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
