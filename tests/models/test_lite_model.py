"""L-SMTL inside a model: one path per training step, a threshold at inference."""

import keras
import numpy as np
from testing_utils import value_and_grad
from testing_utils import dense_encoder
from testing_utils import features
from testing_utils import make_tasks

import smtl_keras


def _paths(model, x, task):
    """The task's output through the public and through the private encoder."""
    head = model.get_layer(f"{task}_head")
    out = model.get_layer(task)
    public = out(head(model.get_layer("public_encoder")(x)))
    private = out(head(model.get_layer(f"{task}_private_encoder")(x)))
    return keras.ops.convert_to_numpy(public), keras.ops.convert_to_numpy(private)


def test_training_step_uses_one_path_and_reaches_the_gate():
    tasks = make_tasks(2)
    model = smtl_keras.build_smtl_model(
        keras.Input((6,), name="features"), dense_encoder(), tasks, variant="lite", seed=5,
        path_dropout=0.0,
    )
    x = features(8)
    public, private = _paths(model, x, "t0")
    assert np.abs(public - private).max() > 1e-3
    picked = []
    for _ in range(12):
        out = keras.ops.convert_to_numpy(model(x, training=True)["t0"])
        if np.allclose(out, private, atol=1e-6, rtol=0):
            picked.append("private")
        else:
            np.testing.assert_allclose(out, public, atol=1e-6, rtol=0)
            picked.append("public")
    assert set(picked) == {"public", "private"}

    gate = model.get_layer("t0_gate")

    def loss():
        return keras.ops.sum(model(x, training=True)["t0"] ** 2), None

    _, (grad,), _ = value_and_grad(loss, [gate.logit])
    assert grad is not None and abs(float(grad)) > 0


def test_same_seed_same_draws():
    def draws(seed):
        keras.utils.set_random_seed(0)
        model = smtl_keras.build_smtl_model(
            keras.Input((6,), name="features"), dense_encoder(), make_tasks(2),
            variant="lite", seed=seed, path_dropout=0.0,
        )
        x = features(4)
        return [keras.ops.convert_to_numpy(model(x, training=True)["t0"]).tobytes() for _ in range(16)]

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)


def test_inference_follows_the_threshold():
    tasks = make_tasks(2)
    model = smtl_keras.build_smtl_model(
        keras.Input((6,), name="features"), dense_encoder(), tasks, variant="lite", seed=1
    )
    x = features(8)
    public, private = _paths(model, x, "t0")
    smtl_keras.set_gate_values(model, {"t0": 0.4})
    np.testing.assert_allclose(model.predict(x, verbose=0)["t0"], public, atol=1e-6, rtol=0)
    smtl_keras.set_gate_values(model, {"t0": 0.6})
    np.testing.assert_allclose(model.predict(x, verbose=0)["t0"], private, atol=1e-6, rtol=0)
    assert abs(smtl_keras.gate_values(model)["t0"] - 0.6) < 1e-6


def test_path_dropout_sends_examples_through_one_path():
    for variant in ("smtl", "lite"):
        model = smtl_keras.build_smtl_model(
            keras.Input((6,), name="features"), dense_encoder(), make_tasks(2), variant=variant,
            seed=2, path_dropout=1.0,
        )
        x = features(64)
        public, private = _paths(model, x, "t0")
        out = keras.ops.convert_to_numpy(model(x, training=True)["t0"])
        is_public = np.all(np.isclose(out, public, atol=1e-6), axis=1)
        is_private = np.all(np.isclose(out, private, atol=1e-6), axis=1)
        assert np.all(is_public | is_private)
        assert 16 < is_private.sum() < 48  # about half of 64
        # Inference is the gate's, untouched by path dropout.
        np.testing.assert_allclose(model.predict(x, verbose=0)["t0"],
                                   model(x, training=False)["t0"], atol=1e-6)
