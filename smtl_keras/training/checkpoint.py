"""Resumable training: checkpoints, early stopping and history that survive a kill."""

import glob
import math
import os

import keras

from smtl_keras.utils.io import atomic_path
from smtl_keras.utils.io import read_json
from smtl_keras.utils.io import write_json

_STATE = "state.json"
_BEST = "best.weights.h5"


class TrainingCheckpoint(keras.callbacks.Callback):
    """Early stopping with the best weights restored, resumable after a kill.

    At the end of every epoch it records the logs, updates the early-stopping
    state on `monitor`, keeps the best weights in `best.weights.h5`, and saves
    the model and optimizer state together with all of that, atomically: a
    kill at any moment leaves the last complete epoch on disk. A new
    `TrainingCheckpoint` on the same folder reads it back, so a resumed run
    continues from that epoch with the same early-stopping state and history
    (`keras.callbacks.BackupAndRestore` keeps neither).

    Usage:

    ```python
    checkpoint = TrainingCheckpoint(folder, patience=5)
    if not checkpoint.finished:
        checkpoint.load_latest(model)
        model.fit(..., epochs=epochs, initial_epoch=checkpoint.initial_epoch,
                  callbacks=[checkpoint])
    checkpoint.load_best(model)
    ```

    Args:
        folder: Where the checkpoint lives.
        monitor: Log key to watch, e.g. `"val_loss"`.
        mode: `"min"` or `"max"`.
        patience: Epochs without improvement before stopping; None never stops.
    """

    def __init__(self, folder, monitor="val_loss", mode="min", patience=None):
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max'. Received: mode={mode!r}")
        if patience is not None and (not isinstance(patience, int) or patience <= 0):
            raise ValueError(f"patience must be None or a positive int. Received: patience={patience!r}")
        self.folder = os.fspath(folder)
        self.monitor = monitor
        self.mode = mode
        self.patience = patience
        state_path = os.path.join(self.folder, _STATE)
        if os.path.exists(state_path):
            self.state = read_json(state_path)
        else:
            self.state = {
                "epoch": 0, "weights": None, "history": {}, "best": None,
                "best_epoch": None, "wait": 0, "finished": False,
            }

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

    def load_latest(self, model):
        """Loads the last saved epoch into `model` (weights and optimizer)."""
        if self.state["weights"] is None:
            return
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(os.path.join(self.folder, self.state["weights"]))

    def load_best(self, model):
        """Loads the weights of the best epoch into `model`, if one was seen."""
        path = os.path.join(self.folder, _BEST)
        if self.state["best_epoch"] is not None and os.path.exists(path):
            if model.optimizer is not None and not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            model.load_weights(path)

    def _improved(self, value):
        best = self.state["best"]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        if best is None:
            return True
        return value < best if self.mode == "min" else value > best

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        for key, value in logs.items():
            self.state["history"].setdefault(key, []).append(float(value))
        value = logs.get(self.monitor)
        if value is None:
            raise ValueError(
                f"TrainingCheckpoint monitors {self.monitor!r}, which is not in the "
                f"logs. Available: {sorted(logs)}"
            )
        if self._improved(float(value)):
            self.state.update(best=float(value), best_epoch=epoch, wait=0)
            with atomic_path(os.path.join(self.folder, _BEST), suffix=".weights.h5") as tmp:
                self.model.save_weights(tmp)
        else:
            self.state["wait"] += 1
            if self.patience is not None and self.state["wait"] >= self.patience:
                self.model.stop_training = True
        self.state["epoch"] = epoch + 1
        self._save(finished=self.model.stop_training)

    def on_train_end(self, logs=None):
        self._save(finished=True)

    def _save(self, finished):
        # Each epoch's weights get a new file; the state names the current one,
        # so state and weights always match, whenever the process dies.
        name = f"epoch-{self.state['epoch']}.weights.h5"
        path = os.path.join(self.folder, name)
        if self.state["weights"] != name:
            with atomic_path(path, suffix=".weights.h5") as tmp:
                self.model.save_weights(tmp)
        self.state.update(weights=name, finished=bool(finished))
        write_json(os.path.join(self.folder, _STATE), self.state)
        for old in glob.glob(os.path.join(self.folder, "epoch-*.weights.h5")):
            if os.path.basename(old) != name:
                os.remove(old)
