"""SavedModel export in the TF Serving layout, checked as TF Serving sees it."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from testing_utils import build
from testing_utils import dense_encoder
from testing_utils import features
from testing_utils import make_tasks

import smtl_keras

# Runs in a fresh interpreter where `import smtl_keras` fails, like TF Serving.
_LOADER = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.modules["smtl_keras"] = None
try:
    import smtl_keras
except ImportError:
    pass
else:
    raise SystemExit("smtl_keras must not be importable here")
import numpy as np
import tensorflow as tf

cases = json.load(open(sys.argv[1]))
for case in cases:
    loaded = tf.saved_model.load(case["path"])
    signature = loaded.signatures["serving_default"]
    inputs = {k: np.load(v) for k, v in case["inputs"].items()}
    for size in (1, 3, len(next(iter(inputs.values())))):
        batch = {k: tf.constant(v[:size]) for k, v in inputs.items()}
        outputs = signature(**batch)
        assert sorted(outputs) == sorted(case["expected"]), (sorted(outputs), case["expected"])
        for name, path in case["expected"].items():
            expected = np.load(path)[:size]
            got = outputs[name].numpy()
            assert got.shape == expected.shape, (name, got.shape, expected.shape)
            np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)
print("ALL_OK", len(cases))
"""


def _save_case(tmp_path, tag, path, model, inputs):
    case = {"path": path, "inputs": {}, "expected": {}}
    for key, value in inputs.items():
        file = tmp_path / f"{tag}_in_{key}.npy"
        np.save(file, value)
        case["inputs"][key] = str(file)
    prediction = model.predict(inputs if len(inputs) > 1 else next(iter(inputs.values())), verbose=0)
    for name, value in prediction.items():
        file = tmp_path / f"{tag}_out_{name}.npy"
        np.save(file, value)
        case["expected"][name] = str(file)
    return case


def test_export_loads_without_smtl_keras_and_lists_task_outputs(tmp_path):
    tasks = make_tasks(3)
    export_dir = tmp_path / "models"
    cases = []

    # Trained with its paths' own losses, served with the task outputs only.
    smtl = build("smtl_decoder", tasks, path_loss=1.0)
    smtl_keras.set_gate_values(smtl, {"t0": 0.2, "t1": 0.9})
    x = features(7)
    path = smtl_keras.export_for_serving(smtl, export_dir / "smtl")
    assert path == str(export_dir / "smtl" / "1")
    cases.append(_save_case(tmp_path, "smtl", path, smtl, {"features": x}))

    lite = build("lite", tasks, seed=0)
    smtl_keras.set_gate_values(lite, {"t0": 0.1, "t1": 0.6, "t2": 0.4})
    cases.append(_save_case(tmp_path, "lite", smtl_keras.export_for_serving(lite, export_dir / "lite"), lite, {"features": x}))
    pruned = smtl_keras.prune_lite(lite)
    path = smtl_keras.export_for_serving(pruned, export_dir / "lite")
    assert path.endswith(os.path.join("lite", "2"))
    cases.append(_save_case(tmp_path, "pruned", path, pruned, {"features": x}))

    inputs = {"dense": keras.Input((6,), name="dense"), "extra": keras.Input((2,), name="extra")}

    def encoder(name):
        x_in = {k: keras.Input(v.shape[1:], name=k) for k, v in inputs.items()}
        merged = keras.layers.Concatenate()([x_in["dense"], x_in["extra"]])
        return keras.Model(x_in, keras.layers.Dense(5, activation="relu")(merged), name=name)

    multi = smtl_keras.build_hps_model(inputs, encoder, tasks[:2])
    multi_in = {"dense": x, "extra": features(7, seed=1, shape=(2,))}
    cases.append(_save_case(tmp_path, "multi", smtl_keras.export_for_serving(multi, export_dir / "multi"), multi, multi_in))

    spec = tmp_path / "cases.json"
    spec.write_text(json.dumps(cases))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", _LOADER, str(spec)], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ALL_OK 4" in result.stdout

    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run(
        [cli, "show", "--dir", cases[0]["path"], "--tag_set", "serve", "--signature_def", "serving_default"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    outputs = shown.stdout.split("output(s):")[1]
    for task in tasks:
        assert f"outputs['{task.name}']" in shown.stdout
        assert task.name in outputs
    assert "inputs['features']" in shown.stdout


def test_export_versions_and_refusals(tmp_path, monkeypatch):
    model = build("hps", make_tasks(1), encoder=dense_encoder(2))
    export_dir = tmp_path / "m"
    assert smtl_keras.export_for_serving(model, export_dir, version=5) == str(export_dir / "5")
    assert smtl_keras.export_for_serving(model, export_dir) == str(export_dir / "6")
    before = sorted(os.listdir(export_dir))
    with pytest.raises(ValueError, match=r"Version 5 already exists.*refusing to overwrite.*next free one \(7\)"):
        smtl_keras.export_for_serving(model, export_dir, version=5)
    for bad in (-1, "3", 1.0, True):
        with pytest.raises(ValueError, match=r"non-negative int. Received: version="):
            smtl_keras.export_for_serving(model, export_dir, version=bad)
    assert sorted(os.listdir(export_dir)) == before

    # A failing export leaves nothing behind: no version, no temporary folder.
    def broken_export(self, *args, **kwargs):
        os.makedirs(os.path.join(args[0], "variables"), exist_ok=True)
        raise RuntimeError("disk full")

    monkeypatch.setattr(keras.Model, "export", broken_export)
    with pytest.raises(RuntimeError, match="disk full"):
        smtl_keras.export_for_serving(model, export_dir)
    assert sorted(os.listdir(export_dir)) == before

    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(ValueError, match=r"export_dir must be a folder"):
        smtl_keras.export_for_serving(model, file)


def test_export_needs_outputs_keyed_by_task():
    x = keras.Input((3,), name="x")
    model = keras.Model(x, keras.layers.Dense(1)(x))
    with pytest.raises(ValueError, match=r"dict of outputs keyed by task name"):
        smtl_keras.export_for_serving(model, "/nonexistent/never/written")
