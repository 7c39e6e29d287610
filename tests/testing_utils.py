"""Tiny models and data shared by the tests."""

import keras
import numpy as np

import smtl_keras

FEATURES = 6
IMAGE_SHAPE = (8, 8, 1)


def dense_encoder(units=8):
    def make(name):
        return keras.Sequential([keras.layers.Dense(units, activation="relu")], name=name)

    return make


def conv_encoder(filters=4):
    def make(name):
        return keras.Sequential(
            [
                keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
                keras.layers.GlobalAveragePooling2D(),
            ],
            name=name,
        )

    return make


def dense_head(units):
    return lambda name: keras.layers.Dense(units, name=name)


def regression_task(name, units=1, **kwargs):
    return smtl_keras.Task(name, head=dense_head(units), loss="mse", metrics=["mae"], **kwargs)


def classification_task(name, classes=3, **kwargs):
    return smtl_keras.Task(
        name,
        head=dense_head(classes),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        **kwargs,
    )


def make_tasks(count):
    """Alternates regression (1 output) and 3-class classification tasks."""
    return [
        regression_task(f"t{i}") if i % 2 == 0 else classification_task(f"t{i}")
        for i in range(count)
    ]


def output_width(task):
    return 1 if task.loss == "mse" else 3


def features(count=16, seed=0, shape=(FEATURES,)):
    return np.random.default_rng(seed).normal(size=(count, *shape)).astype("float32")


def targets(tasks, count, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for task in tasks:
        if task.loss == "mse":
            out[task.name] = rng.normal(size=(count, 1)).astype("float32")
        else:
            out[task.name] = rng.integers(0, 3, size=(count,)).astype("int32")
    return out


def all_layers(model):
    """Every layer of `model`, nested models included."""
    found = []
    for layer in model.layers:
        found.append(layer)
        if isinstance(layer, keras.Model):
            found.extend(all_layers(layer))
    return found


def build(architecture, tasks, encoder=None, inputs=None, **kwargs):
    inputs = inputs if inputs is not None else keras.Input((FEATURES,), name="features")
    return smtl_keras.build_model(
        architecture, inputs, encoder or dense_encoder(), tasks, **kwargs
    )


def as_model_dict(built):
    """STL gives a dict of models; the others one model. Always a dict."""
    return built if isinstance(built, dict) else {"all": built}


def value_and_grad(fn, variables):
    """`fn() -> (loss, aux)`; returns `(loss, [numpy gradient per variable], aux)`.

    The same on every backend: a `tf.GradientTape` on TensorFlow, `jax.grad`
    over a `keras.StatelessScope` on JAX (where random draws inside `fn` use
    the current seed state once).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss, aux = fn()
        grads = tape.gradient(loss, list(variables))
    elif backend == "jax":
        import jax

        def pure(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn()

        (loss, aux), grads = jax.value_and_grad(pure, has_aux=True)([v.value for v in variables])
    else:
        raise NotImplementedError(backend)
    to_numpy = keras.ops.convert_to_numpy
    return float(to_numpy(loss)), [None if g is None else to_numpy(g) for g in grads], aux


def numpy(x):
    return keras.ops.convert_to_numpy(x)
