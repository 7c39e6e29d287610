"""`path_loss`: every path also trains on its own, on every example."""

import keras
import numpy as np
import pytest
from testing_utils import build
from testing_utils import features
from testing_utils import make_tasks
from testing_utils import numpy
from testing_utils import targets

import smtl_keras
from smtl_keras.models.smtl_model import path_outputs

VARIANTS = smtl_keras.VARIANTS


def _path_model(model):
    outputs = {}
    for task, paths in path_outputs(model).items():
        for path, tensor in paths.items():
            outputs[f"{task}_{path}"] = tensor
    return keras.Model(model.inputs, outputs)


def _task_loss(task, y_true, y_pred):
    return float(numpy(keras.losses.get(task.loss)(y_true, y_pred)).mean()) if isinstance(
        task.loss, str
    ) else float(numpy(task.loss(y_true, y_pred)))


@pytest.mark.parametrize("variant, path_loss", [(v, 0.7) for v in VARIANTS] + [("smtl", 0.0)])
def test_training_loss_adds_each_path_alone_with_its_weight(variant, path_loss):
    tasks = make_tasks(2)
    weights = {"t0": 2.0, "t1": 0.5}
    model = build(
        variant, tasks, seed=0, path_dropout=0.0, path_loss=path_loss, loss_weights=weights,
        optimizer=keras.optimizers.SGD(0.0),
    )
    smtl_keras.set_gate_values(model, {"t0": 0.3, "t1": 0.8})
    x, y = features(16), targets(tasks, 16)
    # With the lite variants' draws, the training forward pass of the gate
    # output is random; a learning rate of 0 keeps the weights, so the
    # expected loss is taken from the same draws (the gate output in
    # training is one of the two paths).
    logs = model.train_on_batch(x, y, return_dict=True)
    paths = _path_model(model).predict(x, verbose=0)
    expected_paths = sum(
        weights[t.name] * (
            _task_loss(t, y[t.name], paths[f"{t.name}_public"])
            + _task_loss(t, y[t.name], paths[f"{t.name}_private"])
        )
        for t in tasks
    )
    gate_loss = sum(weights[t.name] * logs[f"{t.name}_loss"] for t in tasks)
    np.testing.assert_allclose(logs["loss"], gate_loss + path_loss * expected_paths, rtol=1e-4)
    if variant == "smtl":
        # Soft gates without path dropout: the gate output is deterministic.
        mixed = model.predict(x, verbose=0)
        expected_gate = sum(weights[t.name] * _task_loss(t, y[t.name], mixed[t.name]) for t in tasks)
        np.testing.assert_allclose(gate_loss, expected_gate, rtol=1e-4)


@pytest.mark.parametrize("variant", ["smtl", "smtl_decoder"])
def test_private_path_learns_when_its_gate_is_closed(variant):
    """With the gate fully public, only the path loss reaches the private encoder."""
    tasks = make_tasks(2)
    x, y = features(32), targets(tasks, 32)
    moved = {}
    for path_loss in (0.0, 1.0):
        keras.utils.set_random_seed(3)
        model = build(
            variant, tasks, seed=0, path_dropout=0.0, path_loss=path_loss,
            optimizer=keras.optimizers.SGD(0.1),
        )
        smtl_keras.set_gate_values(model, {"t0": 0.0, "t1": 0.0})
        encoder = model.get_layer("t0_private_encoder")
        before = [np.copy(w) for w in encoder.get_weights()]
        model.train_on_batch(x, y)
        moved[path_loss] = max(
            float(np.abs(a - b).max()) for a, b in zip(encoder.get_weights(), before)
        )
    assert moved[0.0] < 1e-8
    assert moved[1.0] > 1e-4


def test_path_loss_leaves_inference_and_validation_alone():
    tasks = make_tasks(2)
    x, y = features(16), targets(tasks, 16)
    keras.utils.set_random_seed(5)
    plain = build("smtl", tasks, seed=0, path_loss=0.0)
    keras.utils.set_random_seed(5)
    with_paths = build("smtl", tasks, seed=0, path_loss=1.0)
    assert list(with_paths(x, training=False)) == ["t0", "t1"]
    got, expected = with_paths.predict(x, verbose=0), plain.predict(x, verbose=0)
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name])
    np.testing.assert_allclose(
        with_paths.evaluate(x, y, verbose=0), plain.evaluate(x, y, verbose=0), rtol=1e-6
    )


def test_path_loss_survives_save_and_load(tmp_path):
    tasks = make_tasks(2)
    model = build("lite", tasks, seed=0, path_loss=0.5, path_dropout=0.0,
                  optimizer=keras.optimizers.SGD(0.0))
    x, y = features(16), targets(tasks, 16)
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "lite.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, smtl_keras.SMTLModel)
    assert loaded.path_loss == 0.5
    # Same weights, same draws restored: the same training loss, path terms included.
    expected = model.train_on_batch(x, y, return_dict=True)
    got = loaded.train_on_batch(x, y, return_dict=True)
    np.testing.assert_allclose(got["loss"], expected["loss"], rtol=1e-5)


def test_missing_labels_add_no_path_loss():
    """Examples without labels change neither the gate's nor the paths' loss."""
    tasks = make_tasks(2)
    x, y = features(16), targets(tasks, 16)
    y["t0"][8:] = np.nan
    y["t1"][8:] = -1
    model = build("smtl", tasks, seed=0, path_dropout=0.0, path_loss=1.0,
                  optimizer=keras.optimizers.SGD(0.0))
    full = model.train_on_batch(x, y, return_dict=True)["loss"]
    labelled = model.train_on_batch(
        x[:8], {name: value[:8] for name, value in y.items()}, return_dict=True
    )["loss"]
    assert np.isfinite(full)
    np.testing.assert_allclose(full, labelled, rtol=1e-5)


@pytest.mark.parametrize("value", [-0.1, "1", True])
def test_bad_path_loss_is_refused_at_build(value):
    with pytest.raises(ValueError, match="path_loss must be a number >= 0. Received: path_loss="):
        build("smtl", make_tasks(2), path_loss=value)


def test_default_is_the_gate_outputs_only():
    model = smtl_keras.build_smtl_model(
        keras.Input((4,), name="x"), lambda n: keras.layers.Dense(2, name=n), make_tasks(2)
    )
    assert isinstance(model, smtl_keras.SMTLModel)
    assert model.path_loss == 0.0
    assert list(model(np.zeros((2, 4), "float32"), training=True)) == ["t0", "t1"]


def test_functional_encoders_and_dict_inputs_train_with_safe_sharing():
    """Encoders that are functional models over a dict of inputs: paths found from the gates."""
    inputs = {"numeric": keras.Input((6,), name="numeric"), "extra": keras.Input((2,), name="extra")}

    def encoder(name):
        x_in = {k: keras.Input(v.shape[1:], name=k) for k, v in inputs.items()}
        merged = keras.layers.Concatenate()([x_in["numeric"], x_in["extra"]])
        return keras.Model(x_in, keras.layers.Dense(5, activation="relu")(merged), name=name)

    tasks = make_tasks(2)
    x = {"numeric": features(32), "extra": features(32, seed=1, shape=(2,))}
    y = targets(tasks, 32)
    # Gates after the encoders (soft) and after the decoders (hard).
    for variant in ("smtl", "lite_decoder"):
        model = smtl_keras.build_smtl_model(inputs, encoder, tasks, variant=variant, path_loss=1.0, seed=0)
        safe = smtl_keras.SafeSharing((x, y), patience=2)
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[safe])
        assert sorted(safe.routes) == ["t0", "t1"]
        # The loss counts the gate outputs and both paths: more than the gate outputs alone.
        gate_only = sum(history.history[f"{t}_loss"][-1] for t in ("t0", "t1"))
        assert history.history["loss"][-1] > gate_only


def _hand_built(call_twice=False):
    x = keras.Input((4,), name="x")
    public = keras.layers.Dense(3, name="public_encoder")(x)
    private = keras.layers.Dense(3, name="a_private_encoder")(x)
    gate = smtl_keras.layers.Gate(name="a_gate")
    mixed = gate(public, private)  # positional, not keywords
    if call_twice:
        mixed = gate(mixed, private)
    head = keras.layers.Dense(1, name="a_head")
    return keras.Model(x, {"a": keras.layers.Identity(name="a")(head(mixed))}), gate


def test_paths_of_a_hand_built_model_with_a_positional_gate_call():
    model, _ = _hand_built()
    paths = keras.Model(model.inputs, path_outputs(model)["a"])
    x = features(5, shape=(4,))
    smtl_keras.set_gate_values(model, {"a": 1.0})
    np.testing.assert_allclose(
        paths.predict(x, verbose=0)["private"], model.predict(x, verbose=0)["a"], atol=1e-6
    )
    smtl_keras.set_gate_values(model, {"a": 0.0})
    np.testing.assert_allclose(
        paths.predict(x, verbose=0)["public"], model.predict(x, verbose=0)["a"], atol=1e-6
    )


def test_a_gate_called_twice_is_refused():
    model, _ = _hand_built(call_twice=True)
    with pytest.raises(ValueError, match="Gate 'a_gate' of model .* must be called exactly once"):
        path_outputs(model)
