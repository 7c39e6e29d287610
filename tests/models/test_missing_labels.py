"""Missing labels: NaN (float) and -1 (class ids) add no loss, gradient or metric update."""

import keras
import numpy as np
import pytest
from testing_utils import value_and_grad
from testing_utils import build
from testing_utils import classification_task
from testing_utils import features
from testing_utils import regression_task

from smtl_keras.models.missing import MaskedLoss
from smtl_keras.models.missing import MaskedMetric

TASKS = [regression_task("reg"), classification_task("cls")]


def _data(count, seed=0):
    rng = np.random.default_rng(seed)
    return features(count, seed=seed), {
        "reg": rng.normal(size=(count, 1)).astype("float32"),
        "cls": rng.integers(0, 3, size=(count,)).astype("int32"),
    }


def _gradients(model, x, y):
    def loss():
        y_pred = model(x, training=True)
        return model.compute_loss(x=x, y=y, y_pred=y_pred), None

    value, grads, _ = value_and_grad(loss, model.trainable_variables)
    return value, grads


@pytest.mark.parametrize("missing_task", ["cls", "reg"])
def test_examples_missing_a_label_leave_that_tasks_gradient_unchanged(missing_task):
    other = "reg" if missing_task == "cls" else "cls"
    # No path dropout: its draws per example would differ between the two batches.
    model = build("smtl", TASKS, loss_weights={missing_task: 1.0, other: 0.0}, path_dropout=0.0)
    x, y = _data(16)
    x_extra, y_extra = _data(24, seed=1)
    y_extra[missing_task] = (
        np.full_like(y_extra[missing_task], -1) if missing_task == "cls"
        else np.full_like(y_extra[missing_task], np.nan)
    )
    x_all = np.concatenate([x, x_extra])
    y_all = {k: np.concatenate([y[k], y_extra[k]]) for k in y}

    loss, grads = _gradients(model, x, y)
    loss_all, grads_all = _gradients(model, x_all, y_all)
    assert float(loss_all) == pytest.approx(float(loss), rel=1e-5)
    for g, g_all in zip(grads, grads_all):
        if g is None:
            assert g_all is None
            continue
        np.testing.assert_allclose(g_all, g, rtol=1e-4, atol=1e-6)

    # The same extra examples do change the other task's gradient: they count there.
    model = build("smtl", TASKS, loss_weights={missing_task: 0.0, other: 1.0}, path_dropout=0.0)
    _, grads = _gradients(model, x, y)
    _, grads_all = _gradients(model, x_all, y_all)
    differences = [
        np.abs(a - b).max() for a, b in zip(grads, grads_all) if a is not None
    ]
    assert max(differences) > 1e-4


def test_loss_is_the_mean_over_labelled_examples():
    loss = MaskedLoss("mse")
    y_true = np.array([[1.0], [np.nan], [3.0], [np.nan]], dtype="float32")
    y_pred = np.array([[0.0], [100.0], [1.0], [-5.0]], dtype="float32")
    assert float(loss(y_true, y_pred)) == pytest.approx((1.0 + 4.0) / 2)
    sparse = MaskedLoss(keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    logits = np.log(np.array([[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]], dtype="float32"))
    labels = np.array([0, -1, 1], dtype="int32")
    assert float(sparse(labels, logits)) == pytest.approx(-(np.log(0.5) + np.log(0.8)) / 2, rel=1e-5)
    # A batch without any label for the task adds exactly nothing.
    assert float(loss(np.full((3, 1), np.nan, "float32"), np.ones((3, 1), "float32"))) == 0.0


def test_metrics_skip_missing_labels():
    model = build("hps", TASKS)
    x, y = _data(32)
    keep = np.arange(32) % 3 != 0
    y_missing = {"reg": y["reg"].copy(), "cls": y["cls"].copy()}
    y_missing["reg"][~keep] = np.nan
    y_missing["cls"][~keep] = -1
    with_missing = model.evaluate(x, y_missing, verbose=0, return_dict=True, batch_size=32)
    labelled = model.evaluate(x[keep], {k: v[keep] for k, v in y.items()}, verbose=0,
                              return_dict=True, batch_size=32)
    for key in ("reg_mae", "cls_accuracy", "reg_loss", "cls_loss"):
        assert with_missing[key] == pytest.approx(labelled[key], rel=1e-5), key


def test_fit_with_missing_labels_stays_finite_and_learns():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 6)).astype("float32")
    y = {"reg": x[:, :1] * 2.0, "cls": (x[:, 1] > 0).astype("int32")}
    y["reg"][::2] = np.nan
    y["cls"][1::2] = -1
    model = build("lite", TASKS, optimizer=keras.optimizers.Adam(0.02), seed=0)
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    after = model.evaluate(x, y, verbose=0, return_dict=True)
    assert all(np.isfinite(v) for v in history.history["loss"])
    assert after["reg_loss"] < 0.5 * before["reg_loss"]
    assert after["cls_accuracy"] > 0.8


def test_masked_wrappers_serialize():
    loss = MaskedLoss(keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, MaskedLoss)
    assert restored.loss.get_config()["from_logits"] is True
    metric = MaskedMetric(keras.metrics.MeanAbsoluteError(name="mae"))
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert isinstance(restored, MaskedMetric) and restored.name == "mae"
    restored.update_state(np.array([[1.0], [np.nan]], "float32"), np.array([[0.0], [9.0]], "float32"))
    assert float(restored.result()) == pytest.approx(1.0)
