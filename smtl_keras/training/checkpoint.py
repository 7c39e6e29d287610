"""Resumable training: checkpoints, early stopping and history that survive a kill."""

import json
import math
import os

import keras
import numpy as np

from smtl_keras.utils.io import read_arrays
from smtl_keras.utils.io import read_json
from smtl_keras.utils.io import write_arrays
from smtl_keras.utils.io import write_json

_STATE = "state.json"


def _model_arrays(model):
    """Every variable of the model (weights and random-draw states), in order."""
    return [np.asarray(v.numpy()) for v in model.variables]


def _optimizer_arrays(model):
    if model.optimizer is None or not model.optimizer.built:
        return []
    return [np.asarray(v.numpy()) for v in model.optimizer.variables]


def _assign(variables, arrays, what):
    if len(variables) != len(arrays):
        raise ValueError(
            f"The checkpoint holds {len(arrays)} {what} arrays; the model has "
            f"{len(variables)} variables. Was it written for another model?"
        )
    for variable, array in zip(variables, arrays):
        if tuple(variable.shape) != tuple(array.shape):
            raise ValueError(
                f"Checkpoint array of shape {array.shape} does not fit variable "
                f"{variable.path} of shape {tuple(variable.shape)}"
            )
        variable.assign(array)


class TrainingCheckpoint(keras.callbacks.Callback):
    """Early stopping with the best weights restored, resumable after a kill.

    At the end of every epoch it records the logs, updates the early-stopping
    state on `monitor`, keeps the best weights, and saves the model and
    optimizer state together with all of that, atomically: a kill at any
    moment leaves the last complete epoch on disk. A new `TrainingCheckpoint`
    on the same folder reads it back, so a resumed run continues from that
    epoch with the same early-stopping state and history
    (`keras.callbacks.BackupAndRestore` keeps neither). When training ends it
    restores the best weights and saves them as the final weights.

    Callbacks whose own state must survive too (such as `SafeSharing`) are
    passed as `companions`: they implement `checkpoint_state(folder, epoch)`,
    returning a JSON-able dict (and writing any arrays into `folder`), and
    `restore_checkpoint_state(state, folder)`. Place the companions before the
    checkpoint in the callback list.

    Usage:

    ```python
    checkpoint = TrainingCheckpoint(folder, patience=5)
    if checkpoint.finished:
        checkpoint.load_final(model)
    else:
        checkpoint.load_latest(model)
        model.fit(..., epochs=checkpoint.epochs(epochs),
                  initial_epoch=checkpoint.initial_epoch, callbacks=[checkpoint])
    ```

    Args:
        folder: Where the checkpoint lives.
        monitor: Log key to watch, e.g. `"val_loss"`; None keeps no best
            epoch and never stops (a companion may do both).
        mode: `"min"` or `"max"`.
        patience: Epochs without improvement before stopping; None never stops.
        companions: Callbacks whose state is saved with the checkpoint.
    """

    def __init__(self, folder, monitor="val_loss", mode="min", patience=None, companions=()):
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max'. Received: mode={mode!r}")
        if patience is not None and (not isinstance(patience, int) or patience <= 0):
            raise ValueError(f"patience must be None or a positive int. Received: patience={patience!r}")
        self.folder = os.fspath(folder)
        self.monitor = monitor
        self.mode = mode
        self.patience = patience
        self.companions = list(companions)
        state_path = os.path.join(self.folder, _STATE)
        if os.path.exists(state_path):
            self.state = read_json(state_path)
        else:
            self.state = {
                "epoch": 0, "weights": None, "best_weights": None, "history": {}, "best": None,
                "best_epoch": None, "wait": 0, "stopping": False, "finished": False,
                "companions": [],
            }
        self._best_arrays = None
        self._best_dirty = False

    @property
    def initial_epoch(self):
        """The first epoch still to train (0 for a new run)."""
        return self.state["epoch"]

    @property
    def finished(self):
        return self.state["finished"]

    @property
    def history(self):
        """Per-epoch logs of the whole run, resumed parts included."""
        return self.state["history"]

    @property
    def best_epoch(self):
        return self.state["best_epoch"]

    def epochs(self, budget):
        """The `epochs` to pass to `fit`: the budget, or, when the run had
        decided to stop before it was killed, the current epoch (so `fit` only
        finishes the run)."""
        return self.state["epoch"] if self.state["stopping"] else budget

    def load_latest(self, model):
        """Loads the last saved epoch (weights, optimizer, companions' state)."""
        if self.state["weights"] is None:
            return
        arrays = read_arrays(os.path.join(self.folder, self.state["weights"]))
        count = len(model.variables)
        _assign(model.variables, arrays[:count], "model")
        if len(arrays) > count and model.optimizer is not None:
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            _assign(model.optimizer.variables, arrays[count:], "optimizer")
        if self.state["best_weights"] is not None:
            self._best_arrays = read_arrays(os.path.join(self.folder, self.state["best_weights"]))
        for companion, state in zip(self.companions, self.state["companions"]):
            companion.restore_checkpoint_state(state, self.folder)

    def load_final(self, model):
        """Loads the final weights of a finished run."""
        self.load_latest(model)

    def _improved(self, value):
        best = self.state["best"]
        if value is None or math.isnan(value):
            return False
        if best is None:
            return True
        return value < best if self.mode == "min" else value > best

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        for key, value in logs.items():
            self.state["history"].setdefault(key, []).append(float(value))
        if self.monitor is not None:
            value = logs.get(self.monitor)
            if value is None:
                raise ValueError(
                    f"TrainingCheckpoint monitors {self.monitor!r}, which is not in the "
                    f"logs. Available: {sorted(logs)}"
                )
            if self._improved(float(value)):
                self.state.update(best=float(value), best_epoch=epoch, wait=0)
                self._best_arrays = _model_arrays(self.model)
                self._best_dirty = True
            else:
                self.state["wait"] += 1
                if self.patience is not None and self.state["wait"] >= self.patience:
                    self.model.stop_training = True
        self.state["epoch"] = epoch + 1
        self.state["stopping"] = bool(self.model.stop_training)
        self._save(f"epoch-{epoch + 1}.npz", epoch)

    def on_train_end(self, logs=None):
        if self.monitor is not None and self._best_arrays is not None:
            _assign(self.model.variables, self._best_arrays, "model")
        self.state["finished"] = True
        self._save(f"final-{self.state['epoch']}.npz", self.state["epoch"])

    def _save(self, name, epoch):
        # Arrays go to new files and the state names them, so state and
        # arrays always match, whenever the process dies.
        os.makedirs(self.folder, exist_ok=True)
        write_arrays(
            os.path.join(self.folder, name),
            _model_arrays(self.model) + _optimizer_arrays(self.model),
        )
        self.state["weights"] = name
        if self._best_dirty:
            best = f"best-{epoch + 1}.npz"
            write_arrays(os.path.join(self.folder, best), self._best_arrays)
            self.state["best_weights"] = best
            self._best_dirty = False
        self.state["companions"] = [c.checkpoint_state(self.folder, epoch) for c in self.companions]
        write_json(os.path.join(self.folder, _STATE), self.state)
        referenced = json.dumps(self.state)
        for file in os.listdir(self.folder):
            if file.endswith(".npz") and f'"{file}"' not in referenced:
                os.remove(os.path.join(self.folder, file))
