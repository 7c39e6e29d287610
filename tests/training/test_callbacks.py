import csv

import keras
import numpy as np
from testing_utils import build
from testing_utils import features
from testing_utils import make_tasks
from testing_utils import targets

import smtl_keras


def test_gate_logger_puts_gates_in_history_and_csv(tmp_path):
    tasks = make_tasks(2)
    model = build("smtl", tasks, optimizer=keras.optimizers.Adam(0.05))
    log = tmp_path / "log.csv"
    history = model.fit(
        features(64), targets(tasks, 64), epochs=3, verbose=0,
        callbacks=[smtl_keras.GateLogger(), keras.callbacks.CSVLogger(str(log))],
    )
    assert len(history.history["gate_t0"]) == 3
    assert history.history["gate_t0"][-1] == smtl_keras.gate_values(model)["t0"]
    assert len(set(history.history["gate_t1"])) == 3  # the gate moved every epoch
    with open(log) as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["gate_t1"]) for r in rows] == history.history["gate_t1"]


def test_gate_logger_adds_nothing_for_models_without_gates():
    tasks = make_tasks(2)
    model = build("hps", tasks)
    history = model.fit(features(16), targets(tasks, 16), epochs=1, verbose=0,
                        callbacks=[smtl_keras.GateLogger()])
    assert not any(key.startswith("gate_") for key in history.history)
    assert np.isfinite(history.history["loss"][0])
