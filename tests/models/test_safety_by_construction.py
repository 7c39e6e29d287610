"""A fully private gate IS the single-task model; a fully public one IS hard sharing."""

import keras
import numpy as np
import pytest
from testing_utils import conv_encoder
from testing_utils import features
from testing_utils import IMAGE_SHAPE
from testing_utils import make_tasks

import smtl_keras


def _copy(src, src_name, dst, dst_name):
    dst.get_layer(dst_name).set_weights(src.get_layer(src_name).get_weights())


def _head(variant, task, path):
    return f"{task}_{path}_head" if variant.endswith("_decoder") else f"{task}_head"


@pytest.mark.parametrize("variant, gate", [
    ("smtl", "softmax"), ("smtl", "sigmoid"), ("lite", "softmax"),
    ("smtl_decoder", "softmax"), ("smtl_decoder", "sigmoid"), ("lite_decoder", "softmax"),
])
def test_fully_private_gate_equals_single_task_model(variant, gate):
    tasks = make_tasks(3)
    inputs = keras.Input((6,), name="features")
    encoder = lambda name: keras.Sequential(  # noqa: E731
        [keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(8)], name=name
    )
    model = smtl_keras.build_smtl_model(inputs, encoder, tasks, variant=variant, gate=gate)
    stl = smtl_keras.build_stl_models(inputs, encoder, tasks)
    x = features(32)
    for task in tasks:
        name = task.name
        _copy(model, f"{name}_private_encoder", stl[name], f"{name}_encoder")
        _copy(model, _head(variant, name, "private"), stl[name], f"{name}_head")
    expected = {t.name: stl[t.name].predict(x, verbose=0)[t.name] for t in tasks}

    mixed = model.predict(x, verbose=0)
    if not variant.startswith("lite"):
        # At the initial 0.5 / 0.5 the output is not the single-task one,
        # so the comparison below can fail.
        assert np.abs(mixed["t0"] - expected["t0"]).max() > 1e-3

    smtl_keras.set_gate_values(model, {"t0": 1.0})
    out = model.predict(x, verbose=0)
    np.testing.assert_allclose(out["t0"], expected["t0"], atol=1e-5, rtol=0)

    smtl_keras.set_gate_values(model, {t.name: 1.0 for t in tasks})
    out = model.predict(x, verbose=0)
    for task in tasks:
        np.testing.assert_allclose(out[task.name], expected[task.name], atol=1e-5, rtol=0)


@pytest.mark.parametrize("variant", smtl_keras.VARIANTS)
def test_fully_public_gate_equals_hard_sharing_path(variant):
    tasks = make_tasks(2)
    inputs = keras.Input(IMAGE_SHAPE, name="image")
    encoder = conv_encoder()
    model = smtl_keras.build_smtl_model(inputs, encoder, tasks, variant=variant)
    hps = smtl_keras.build_hps_model(inputs, encoder, tasks)
    _copy(model, "public_encoder", hps, "public_encoder")
    for task in tasks:
        _copy(model, _head(variant, task.name, "public"), hps, f"{task.name}_head")
    smtl_keras.set_gate_values(model, {t.name: 0.0 for t in tasks})
    x = features(16, shape=IMAGE_SHAPE)
    out = model.predict(x, verbose=0)
    expected = hps.predict(x, verbose=0)
    for task in tasks:
        np.testing.assert_allclose(out[task.name], expected[task.name], atol=1e-5, rtol=0)


def test_gate_values_and_set_gate_values():
    tasks = make_tasks(2)
    inputs = keras.Input((6,), name="features")
    encoder = lambda name: keras.Sequential([keras.layers.Dense(4)], name=name)  # noqa: E731
    soft = smtl_keras.build_smtl_model(inputs, encoder, tasks)
    assert smtl_keras.gate_values(soft) == {"t0": 0.5, "t1": 0.5}
    smtl_keras.set_gate_values(soft, {"t1": 0.8})
    values = smtl_keras.gate_values(soft)
    assert values["t0"] == 0.5 and values["t1"] == pytest.approx(0.8, abs=1e-6)
    assert smtl_keras.gate_values(smtl_keras.build_hps_model(inputs, encoder, tasks)) == {}
    with pytest.raises(ValueError, match=r"has no gates for \['nope'\]. Tasks with gates: \['t0', 't1'\]"):
        smtl_keras.set_gate_values(soft, {"nope": 1.0})
