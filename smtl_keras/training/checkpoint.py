"""Resumable training: checkpoints, early stopping and history that survive a kill."""

import json
import math
import os

import keras

from smtl_keras.utils.io import atomic_path
from smtl_keras.utils.io import read_json
from smtl_keras.utils.io import write_json

_STATE = "state.json"
_BEST = "best.weights.h5"
_FINAL = "final.weights.h5"


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
                "epoch": 0, "weights": None, "history": {}, "best": None,
                "best_epoch": None, "wait": 0, "stopping": False, "finished": False,
                "companions": [],
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

    def epochs(self, budget):
        """The `epochs` to pass to `fit`: the budget, or, when the run had
        decided to stop before it was killed, the current epoch (so `fit` only
        finishes the run)."""
        return self.state["epoch"] if self.state["stopping"] else budget

    def _load(self, model, name):
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(os.path.join(self.folder, name))

    def load_latest(self, model):
        """Loads the last saved epoch (weights, optimizer, companions' state)."""
        if self.state["weights"] is None:
            return
        self._load(model, self.state["weights"])
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
                with atomic_path(os.path.join(self.folder, _BEST), suffix=".weights.h5") as tmp:
                    self.model.save_weights(tmp)
            else:
                self.state["wait"] += 1
                if self.patience is not None and self.state["wait"] >= self.patience:
                    self.model.stop_training = True
        self.state["epoch"] = epoch + 1
        self.state["stopping"] = bool(self.model.stop_training)
        self._save(f"epoch-{epoch + 1}.weights.h5", epoch)

    def on_train_end(self, logs=None):
        if self.monitor is not None and self.state["best_epoch"] is not None:
            self.model.load_weights(os.path.join(self.folder, _BEST))
        self.state["finished"] = True
        self._save(_FINAL, self.state["epoch"])

    def _save(self, name, epoch):
        # Weights go to a new file and the state names it, so state and
        # weights always match, whenever the process dies.
        with atomic_path(os.path.join(self.folder, name), suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp)
        self.state["weights"] = name
        self.state["companions"] = [c.checkpoint_state(self.folder, epoch) for c in self.companions]
        write_json(os.path.join(self.folder, _STATE), self.state)
        referenced = json.dumps(self.state)
        for file in os.listdir(self.folder):
            stale = file.endswith((".weights.h5", ".npz")) and file != _BEST
            if stale and f'"{file}"' not in referenced:
                os.remove(os.path.join(self.folder, file))
