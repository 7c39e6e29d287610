"""`.keras` save and load in safe mode, for every architecture."""

import keras
import numpy as np
import pytest
from testing_utils import as_model_dict
from testing_utils import build
from testing_utils import conv_encoder
from testing_utils import features
from testing_utils import IMAGE_SHAPE
from testing_utils import make_tasks
from testing_utils import targets

import smtl_keras


@pytest.mark.parametrize("architecture", sorted(smtl_keras.ARCHITECTURES))
def test_keras_round_trip_reproduces_predictions(architecture, tmp_path):
    tasks = make_tasks(2)
    inputs = keras.Input(IMAGE_SHAPE, name="image")
    built = build(architecture, tasks, encoder=conv_encoder(), inputs=inputs, seed=2)
    x = features(6, shape=IMAGE_SHAPE)
    for key, model in as_model_dict(built).items():
        y = targets(tasks, 6)
        model.fit(x, {name: y[name] for name in model.output}, epochs=1, verbose=0)
        if smtl_keras.gate_values(model):
            smtl_keras.set_gate_values(model, {"t0": 0.3, "t1": 0.7})
        path = tmp_path / f"{architecture}_{key}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        expected = model.predict(x, verbose=0)
        got = loaded.predict(x, verbose=0)
        assert list(got) == list(expected)
        for name in expected:
            np.testing.assert_array_equal(got[name], expected[name])
        assert smtl_keras.gate_values(loaded) == smtl_keras.gate_values(model)
        # The loaded model trains on: optimizer and losses came back.
        loaded.fit(x, {name: y[name] for name in loaded.output}, epochs=1, verbose=0)
