"""SafeSharing: per task, never worse than its private path on validation."""

import keras
import numpy as np
import pytest

import smtl_keras
from smtl_keras.training.safe import private_route


def _teacher_data(count, seed):
    """Data of its own (not the benchmark's): a teacher network and a noise task."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, 8)).astype("float32")
    teacher = np.random.default_rng(100).normal(size=(8, 4))
    clean = np.tanh(x @ teacher) @ np.array([1.0, -0.5, 0.7, 0.3]) + 0.1 * rng.normal(size=count)
    return x, {
        "clean": clean.astype("float32")[:, None],
        "noise": rng.normal(size=(count, 1)).astype("float32"),
    }


def _tasks():
    head = lambda name: keras.Sequential(  # noqa: E731
        [keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)], name=name)
    return [smtl_keras.Task(n, head=head, loss="mse") for n in ("clean", "noise")]


def _encoder(name):
    return keras.Sequential([keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dense(16, activation="relu")], name=name)


def _datasets():
    x, y = _teacher_data(900, seed=0)
    split = lambda a, b: (x[a:b], {k: v[a:b] for k, v in y.items()})  # noqa: E731
    return split(0, 400), split(400, 650), split(650, 900)


@pytest.mark.parametrize("variant", ["smtl", "lite"])
def test_no_task_ends_worse_than_its_private_path_on_validation(variant):
    (x, y), (xv, yv), _ = _datasets()
    model = smtl_keras.build_smtl_model(
        keras.Input((8,), name="features"), _encoder, _tasks(), variant=variant, seed=0,
        optimizer=keras.optimizers.Adam(3e-3),
    )
    safe = smtl_keras.SafeSharing((xv, yv), patience=5)
    model.fit(x, y, epochs=40, batch_size=32, verbose=0, callbacks=[safe])
    final = model.evaluate(xv, yv, batch_size=len(xv), verbose=0, return_dict=True)
    for task in ("clean", "noise"):
        assert final[f"{task}_loss"] <= safe.best_private[task] * (1 + 1e-5), task
        assert final[f"{task}_loss"] == pytest.approx(safe.validation_losses[task], rel=1e-4)
    assert set(safe.routes) == {"clean", "noise"}
    values = smtl_keras.gate_values(model)
    for task, route in safe.routes.items():
        if route == "private":
            assert values[task] == pytest.approx(1.0)
        elif route == "public":
            assert values[task] == pytest.approx(0.0)


def test_private_route_is_the_task_alone():
    (x, y), (xv, yv), _ = _datasets()
    model = smtl_keras.build_smtl_model(
        keras.Input((8,), name="features"), _encoder, _tasks(), seed=0,
        optimizer=keras.optimizers.Adam(3e-3),
    )
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    smtl_keras.set_gate_values(model, {"clean": 1.0})
    layers = private_route(model, "clean")
    assert layers == ["clean_private_encoder", "clean_head", "clean"]
    alone = xv
    for name in layers:
        alone = model.get_layer(name)(alone)
    np.testing.assert_allclose(model.predict(xv, verbose=0)["clean"], keras.ops.convert_to_numpy(alone), atol=1e-5)


def test_the_readme_recipe_keeps_a_clean_task_safe_next_to_a_noise_task():
    """Own data, the README recipe: build_smtl_model defaults + SafeSharing."""
    (x, y), (xv, yv), (xt, yt) = _datasets()
    results = {"stl": [], "hps": [], "smtl": []}
    for seed in range(1):
        keras.utils.set_random_seed(seed)
        stl = smtl_keras.build_stl_models(keras.Input((8,), name="features"), _encoder, _tasks(),
                                          optimizer=keras.optimizers.Adam(3e-3))["clean"]
        stl.fit(x, {"clean": y["clean"]}, validation_data=(xv, {"clean": yv["clean"]}), epochs=60,
                batch_size=32, verbose=0,
                callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)])
        results["stl"].append(stl.evaluate(xt, {"clean": yt["clean"]}, verbose=0, return_dict=True)["loss"])
        keras.utils.set_random_seed(seed)
        hps = smtl_keras.build_hps_model(keras.Input((8,), name="features"), _encoder, _tasks(),
                                         optimizer=keras.optimizers.Adam(3e-3))
        hps.fit(x, y, validation_data=(xv, yv), epochs=60, batch_size=32, verbose=0,
                callbacks=[keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)])
        results["hps"].append(hps.evaluate(xt, yt, verbose=0, return_dict=True)["clean_loss"])
        keras.utils.set_random_seed(seed)
        model = smtl_keras.build_smtl_model(keras.Input((8,), name="features"), _encoder, _tasks(),
                                            seed=seed, optimizer=keras.optimizers.Adam(3e-3))
        model.fit(x, y, epochs=60, batch_size=32, verbose=0,
                  callbacks=[smtl_keras.SafeSharing((xv, yv), patience=5)])
        results["smtl"].append(model.evaluate(xt, yt, verbose=0, return_dict=True)["clean_loss"])
    stl, hps, smtl = (np.mean(results[k]) for k in ("stl", "hps", "smtl"))
    assert hps > 1.2 * stl  # the noise task does hurt hard sharing here ...
    assert smtl < 1.1 * stl  # ... but not SMTL trained the safe way


def test_needs_validation_data_and_a_gated_model():
    with pytest.raises(ValueError, match=r"needs validation_data .*Received: validation_data=None"):
        smtl_keras.SafeSharing(None)
    with pytest.raises(ValueError, match=r"patience must be a positive int"):
        smtl_keras.SafeSharing((np.zeros((2, 8)), {}), patience=0)
    (x, y), (xv, yv), _ = _datasets()
    hps = smtl_keras.build_hps_model(keras.Input((8,), name="features"), _encoder, _tasks())
    with pytest.raises(ValueError, match=r"needs a gated model from build_smtl_model; model 'hps' has no gates"):
        hps.fit(x, y, epochs=1, verbose=0, callbacks=[smtl_keras.SafeSharing((xv, yv))])


def test_checkpoint_state_round_trip(tmp_path):
    (x, y), (xv, yv), _ = _datasets()
    model = smtl_keras.build_smtl_model(keras.Input((8,), name="features"), _encoder, _tasks(), seed=0)
    safe = smtl_keras.SafeSharing((xv, yv), patience=3)
    model.fit(x, y, epochs=3, batch_size=64, verbose=0, callbacks=[safe])
    state = safe.checkpoint_state(str(tmp_path), epoch=3)
    restored = smtl_keras.SafeSharing((xv, yv), patience=3)
    restored.restore_checkpoint_state(state, str(tmp_path))
    assert restored.best_private == safe.best_private
    assert restored.routes == safe.routes
    for a, b in zip(restored._snapshot, safe._snapshot):
        np.testing.assert_array_equal(a, b)
    for task in ("clean", "noise"):
        for layer_a, layer_b in zip(restored._private_snapshot[task], safe._private_snapshot[task]):
            for a, b in zip(layer_a, layer_b):
                np.testing.assert_array_equal(a, b)
    assert (tmp_path / state["files"]["model"]).exists()
