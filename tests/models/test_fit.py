"""model.fit with dicts keyed by task name, for every architecture."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from testing_utils import as_model_dict
from testing_utils import build
from testing_utils import classification_task
from testing_utils import regression_task

import smtl_keras


def _learnable(count=256, seed=0):
    """Two tasks that a small network learns: a linear target and a class."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, 6)).astype("float32")
    w = rng.normal(size=(6, 1)).astype("float32")
    y_reg = (x @ w).astype("float32")
    y_cls = (np.digitize(x[:, 0] + x[:, 1], [-0.7, 0.7])).astype("int32")
    return x, {"reg": y_reg, "cls": y_cls}


TASKS = [regression_task("reg"), classification_task("cls")]


def _targets(model, y):
    return {name: y[name] for name in model.output}


@pytest.fixture
def _xla_allowed():
    """Keras turns XLA off while TensorFlow's op determinism is on (conftest turns it on)."""
    if keras.backend.backend() != "tensorflow":
        yield
        return
    from tensorflow.python.framework import config

    was_on = config.is_op_determinism_enabled()
    config.disable_op_determinism()
    yield
    if was_on:
        config.enable_op_determinism()


@pytest.mark.parametrize("architecture", sorted(smtl_keras.ARCHITECTURES))
def test_fit_on_numpy_with_jit_lowers_the_loss(architecture, _xla_allowed):
    x, y = _learnable()
    built = build(
        architecture, TASKS, optimizer=keras.optimizers.Adam(0.02),
        loss_weights={"reg": 1.0, "cls": 0.5}, metrics={"reg": ["mae"], "cls": ["accuracy"]},
        jit_compile=True,
    )
    for model in as_model_dict(built).values():
        before = model.evaluate(x, _targets(model, y), verbose=0, return_dict=True)
        history = model.fit(x, _targets(model, y), epochs=15, batch_size=32, verbose=0)
        after = model.evaluate(x, _targets(model, y), verbose=0, return_dict=True)
        assert after["loss"] < 0.5 * before["loss"], (model.name, before, after)
        assert history.history["loss"][-1] < history.history["loss"][0]
        assert model.jit_compile is True


def test_loss_weights_and_metrics_are_keyed_by_task():
    x, y = _learnable(64)
    model = build(
        "smtl", TASKS, loss_weights={"reg": 1.0, "cls": 0.25},
        metrics={"cls": [keras.metrics.SparseCategoricalAccuracy(name="acc")]},
    )
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert {"reg_loss", "cls_loss", "reg_mae", "cls_acc", "loss"} <= set(result)
    assert "cls_accuracy" not in result
    assert result["loss"] == pytest.approx(result["reg_loss"] + 0.25 * result["cls_loss"], rel=1e-4)


@pytest.mark.parametrize("architecture", ["smtl", "lite", "lite_decoder"])
def test_fit_on_tf_data(architecture):
    x, y = _learnable()
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(256, seed=0).batch(32)
    model = build(architecture, TASKS, optimizer=keras.optimizers.Adam(0.02), seed=0)
    before = model.evaluate(dataset, verbose=0, return_dict=True)["loss"]
    model.fit(dataset, epochs=12, verbose=0, validation_data=dataset)
    after = model.evaluate(dataset, verbose=0, return_dict=True)["loss"]
    assert after < 0.5 * before


def test_gates_learn():
    x, y = _learnable()
    model = build("smtl", TASKS, optimizer=keras.optimizers.Adam(0.05))
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    values = smtl_keras.gate_values(model)
    assert any(abs(v - 0.5) > 1e-3 for v in values.values())


def test_stl_models_have_their_own_optimizers():
    optimizer = keras.optimizers.Adam(0.01)
    models = build("stl", TASKS, optimizer=optimizer)
    assert models["reg"].optimizer is not models["cls"].optimizer
    assert models["reg"].optimizer is not optimizer
    assert float(models["cls"].optimizer.learning_rate) == pytest.approx(0.01)
