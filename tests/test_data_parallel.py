"""Data-parallel training on the JAX backend: two processes on localhost, one run."""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

import smtl_keras  # noqa: F401  (registers the custom objects of the saved models)

pytest.importorskip("jax")

FLAGS = ["--num_examples=512", "--batch_size=32", "--epochs=2", "--seeds=1", "--patience=0",
         "--architectures=lite", "--verbose=0", "--distribution=data_parallel"]
ENV = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def _train(*flags):
    return subprocess.Popen([sys.executable, "-m", "smtl_keras.train", *FLAGS, *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


def _history(folder, arch):
    key = "y1" if arch == "stl" else "model"
    return json.loads((folder / "runs" / arch / "seed_0" / "history.json").read_text())[key]


def test_two_processes_train_one_model_like_a_single_process(tmp_path):
    address = f"localhost:{_free_port()}"
    multi = tmp_path / "multi"
    processes = [
        _train("--num_processes=2", f"--process_id={i}", f"--coordinator_address={address}",
               f"--output_dir={multi}", *(["--export"] if i == 0 else []))
        for i in (0, 1)
    ]
    outputs = [p.communicate(timeout=600) for p in processes]
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]
    assert "DataParallel over 2 device(s) in 2 process(es); this is process 0" in outputs[0][0]
    single = tmp_path / "single"
    process = _train("--num_processes=1", f"--output_dir={single}")
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]

    for arch in ("stl", "lite"):
        chief, other = multi, multi / "process_1"
        # Both processes end with identical weights ...
        a = keras.saving.load_model(chief / "runs" / arch / "seed_0" / ("y1.keras" if arch == "stl" else "model.keras"))
        b = keras.saving.load_model(other / "runs" / arch / "seed_0" / ("y1.keras" if arch == "stl" else "model.keras"))
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_array_equal(wa, wb)
        # ... and the losses of a single process with the same global batch (to 1e-5).
        assert _history(chief, arch)["loss"] == pytest.approx(_history(single, arch)["loss"], rel=1e-5)
        # Validation losses too (SMTL-family runs log them per task through SafeSharing).
        validation = [key for key in _history(single, arch) if key.startswith("val_") and key.endswith("loss")]
        assert validation, _history(single, arch).keys()
        for key in validation:
            assert _history(chief, arch)[key] == pytest.approx(_history(single, arch)[key], rel=1e-5), key
    assert not (multi / "process_1" / "export").exists()

    # The JAX-trained model exports to a SavedModel that TensorFlow alone serves.
    export = multi / "export" / "lite" / "1"
    model = keras.saving.load_model(multi / "runs" / "lite" / "seed_0" / "model.keras")
    x = np.random.default_rng(0).normal(size=(5, 20)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", model.predict(x, verbose=0)["y1"])
    script = (
        "import sys, numpy as np; sys.modules['smtl_keras'] = None\n"
        "import tensorflow as tf\n"
        f"sig = tf.saved_model.load({str(export)!r}).signatures['serving_default']\n"
        f"x = np.load({str(tmp_path / 'x.npy')!r}); y = np.load({str(tmp_path / 'y.npy')!r})\n"
        "print('DIFF', float(np.abs(sig(features=tf.constant(x))['y1'].numpy() - y).max()))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=300)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert float(loaded.stdout.split("DIFF")[1]) <= 1e-5


def test_data_parallel_needs_jax(tmp_path):
    env = dict(ENV, KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, "-m", "smtl_keras.train", *FLAGS, f"--output_dir={tmp_path}"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2
    assert "needs the JAX backend: set KERAS_BACKEND=jax" in result.stderr
