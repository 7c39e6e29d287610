"""Encoders, heads and tasks shared by the image datasets."""

import keras

from smtl_keras.models.task import Task


def conv_encoder(filters=(16, 32), units=64):
    """A factory of small convolutional encoders ending in a dense layer.

    The features are flattened rather than pooled, so the encoder keeps where
    things are in the image (the left and right digit of MultiMNIST).
    """

    def make(name):
        layers = []
        for count in filters:
            layers += [
                keras.layers.Conv2D(count, 3, padding="same", activation="relu"),
                keras.layers.MaxPooling2D(2),
            ]
        layers += [keras.layers.Flatten(), keras.layers.Dense(units, activation="relu")]
        return keras.Sequential(layers, name=name)

    return make


def classification_task(name, num_classes):
    """A task with `num_classes` classes, logits out, accuracy for safety."""
    if num_classes == 2:
        return Task(
            name,
            head=lambda slot: keras.layers.Dense(1, name=slot),
            loss=keras.losses.BinaryCrossentropy(from_logits=True),
            metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")],
        )
    return Task(
        name,
        head=lambda slot: keras.layers.Dense(num_classes, name=slot),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
