"""SafeSharing: choose each task's route on validation so that no task ends worse than its private path."""

import contextlib
import math
import os

import keras
import numpy as np

from smtl_keras.layers import LiteGate
from smtl_keras.models.names import head_name
from smtl_keras.models.names import private_encoder_name
from smtl_keras.models.gates import gate_layers
from smtl_keras.models.smtl_model import PATH_SEPARATOR
from smtl_keras.models.smtl_model import path_key
from smtl_keras.models.smtl_model import path_outputs
from smtl_keras.models.smtl_model import per_output
from smtl_keras.utils.io import read_arrays
from smtl_keras.utils.io import write_arrays

ROUTES = ("learned", "public", "private")


def private_route(model, task):
    """Names of the layers that only task `task`'s private path uses."""
    names = {layer.name for layer in model.layers}
    head = head_name(task) if head_name(task) in names else head_name(task, "private")
    return [private_encoder_name(task), head, task]


class SafeSharing(keras.callbacks.Callback):
    """Chooses, per task, the route that does best on validation data.

    After every epoch it measures each task's validation loss on three
    routes, in one pass over the validation data: the learned gate, the
    public path alone (gate at 0) and the private path alone (gate at 1; for
    lite gates the learned route is one of the other two). The losses go into
    the epoch logs as `safe_<task>_<route>`. It keeps

    - per task, the weights of its private path (private encoder and head)
      at the epoch where that path alone did best: the task's single-task
      model, trained inside the multi-task one;
    - the whole model at the epoch with the best score
      `sum_t (min(L_t, P_t) - P_t) / |P_t|`, where `L_t` is task t's loss on
      its best route at that epoch and `P_t` its best private-path loss so far.

    At the end it restores that model, sets every gate to the task's best
    route there, and sends each task whose private path did better at its own
    best epoch back to that private path. So, on the validation data, no task
    ends worse than its private path, and tasks that gain from sharing keep
    the gain. It stops training when neither the score nor any private path
    improved for `patience` epochs, so do not add `EarlyStopping`.

    The private path is trained as a single-task model only if the model is
    built to train its paths alone: with `path_loss > 0` (every example
    also trains each path on its own) or `path_dropout > 0` (part of every
    batch goes through one path alone).

    Args:
        validation_data: A `tf.data.Dataset` of `(inputs, targets)` or a tuple
            `(x, y)`, the data the routes are chosen on.
        patience: Epochs without improvement before training stops.
        margin: A shared route (learned gate or public path) replaces the
            private path only when its validation loss is lower by more than
            this fraction (of the private loss's magnitude), so that
            validation noise alone does not move a task off its single-task
            path.
        batch_size: Batch size for a tuple `validation_data`.

    Attributes:
        routes: After training, `{task: "learned" | "public" | "private"}`.
        validation_losses: After training, `{task: validation loss}` of the
            chosen routes.

    Example:

    ```python
    model = smtl_keras.build_smtl_model(inputs, encoder, tasks)
    model.fit(train, epochs=100, callbacks=[smtl_keras.SafeSharing(val, patience=10)])
    ```
    """

    def __init__(self, validation_data, patience=10, margin=0.01, batch_size=None):
        super().__init__()
        if validation_data is None:
            raise ValueError(
                "SafeSharing chooses each task's route on validation data, so it "
                "needs validation_data (a tf.data.Dataset or a tuple (x, y)). "
                "Received: validation_data=None"
            )
        if not isinstance(patience, int) or isinstance(patience, bool) or patience <= 0:
            raise ValueError(f"patience must be a positive int. Received: patience={patience!r}")
        if not 0.0 <= margin < 1.0:
            raise ValueError(f"margin must lie in [0, 1). Received: margin={margin!r}")
        self.validation_data = validation_data
        self.patience = patience
        self.margin = margin
        # Validation sets up to this size are held in memory and measured as
        # one batch.
        self.in_memory_bytes = 64 * 2**20
        self.batch_size = batch_size
        self.routes = {}
        self.validation_losses = {}
        self._restored = False

    def _build_probe(self):
        """A model over the same layers that outputs every task's routes at once.

        One evaluation of it gives each task's validation loss on the learned
        gate, on the public path alone and on the private path alone.
        """
        model = self.model
        paths = path_outputs(model)
        outputs = {}
        for t in self.tasks:
            outputs[path_key(t, "public")] = paths[t]["public"]
            outputs[path_key(t, "private")] = paths[t]["private"]
            if not self._lite:
                outputs[path_key(t, "learned")] = model.output[t]
        probe = keras.Model(model.inputs, outputs, name=f"{model.name}_routes")
        losses = per_output(model.loss, list(model.output), "loss")
        strategy = getattr(model, "distribute_strategy", None)
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            probe.compile(
                optimizer="sgd",
                loss={key: losses[key.split(PATH_SEPARATOR)[0]] for key in outputs},
                jit_compile=False,
            )
        self._probe = probe
        self._probe_keys = list(outputs)

    def _probe_targets(self, targets):
        return {key: targets[key.split(PATH_SEPARATOR)[0]] for key in self._probe_keys}

    def _materialize_validation(self):
        """The validation data as one in-memory batch, when it is small.

        One `test_on_batch` call is far cheaper than `evaluate` on small
        validation sets. Left out under `keras.distribution`, where Keras
        shards the data itself.
        """
        self._arrays = None
        if keras.distribution.distribution() is not None:
            return
        data = self.validation_data
        if isinstance(data, tuple):
            x, y = data[0], data[1]
        else:
            xs, ys, size = [], [], 0
            for x_batch, y_batch in data:
                xs.append(keras.tree.map_structure(np.asarray, x_batch))
                ys.append(keras.tree.map_structure(np.asarray, y_batch))
                size += sum(a.nbytes for a in keras.tree.flatten((xs[-1], ys[-1])))
                if size > self.in_memory_bytes:
                    return
            if not xs:
                return
            x = keras.tree.map_structure(lambda *parts: np.concatenate(parts), *xs)
            y = keras.tree.map_structure(lambda *parts: np.concatenate(parts), *ys)
        size = sum(np.asarray(a).nbytes for a in keras.tree.flatten((x, y)))
        if size <= self.in_memory_bytes:
            self._arrays = (x, self._probe_targets(y))

    def _route_losses(self):
        """`{route: {task: validation loss}}` from one pass over the validation data."""
        data = self.validation_data
        if self._arrays is not None:
            logs = self._probe.test_on_batch(*self._arrays, return_dict=True)
        elif isinstance(data, tuple):
            logs = self._probe.evaluate(
                data[0], self._probe_targets(data[1]), batch_size=self.batch_size,
                verbose=0, return_dict=True,
            )
        else:
            keys = self._probe_keys
            mapped = data.map(
                lambda x, y: (x, {key: y[key.split(PATH_SEPARATOR)[0]] for key in keys})
            )
            logs = self._probe.evaluate(mapped, verbose=0, return_dict=True)
        routes = {}
        for key in self._probe_keys:
            task, route = key.split(PATH_SEPARATOR)
            routes.setdefault(route, {})[task] = float(logs[f"{key}_loss"])
        return routes

    def _route_weights(self, task):
        return [self.model.get_layer(name).get_weights() for name in self._private_layers[task]]

    def _set_route_weights(self, task, weights):
        for name, values in zip(self._private_layers[task], weights):
            self.model.get_layer(name).set_weights(values)

    def on_train_begin(self, logs=None):
        self._gates = gate_layers(self.model)
        if not self._gates:
            raise ValueError(
                f"SafeSharing needs a gated model from build_smtl_model; model "
                f"'{self.model.name}' has no gates."
            )
        self.tasks = list(self._gates)
        self._lite = all(isinstance(g, LiteGate) for g in self._gates.values())
        self._private_layers = {t: private_route(self.model, t) for t in self.tasks}
        if getattr(self, "_probe_for", None) is not self.model:
            # Built once per model: a later fit of the same model reuses it.
            self._build_probe()
            self._materialize_validation()
            self._probe_for = self.model
        if self._restored:
            return
        self.best_private = {t: math.inf for t in self.tasks}
        self._private_snapshot = {t: None for t in self.tasks}
        self._best_score = math.inf
        self._snapshot = None
        self._snapshot_routes = None
        self._wait = 0
        self._files = {}
        self._dirty = {}

    # --- state for TrainingCheckpoint, so that a killed run resumes exactly

    def _write_arrays(self, folder, key, epoch, arrays):
        name = f"safe-{key}-{epoch}.npz"
        write_arrays(os.path.join(folder, name), arrays)
        self._files[key] = name

    def checkpoint_state(self, folder, epoch):
        """The state as a JSON-able dict; new snapshots are written to `folder`."""
        for t in self.tasks:
            if self._private_snapshot[t] is not None and self._dirty.get(f"private-{t}"):
                flat = [w for layer in self._private_snapshot[t] for w in layer]
                self._write_arrays(folder, f"private-{t}", epoch, flat)
        if self._snapshot is not None and self._dirty.get("model"):
            self._write_arrays(folder, "model", epoch, self._snapshot)
        self._dirty = {}
        return {
            "best_private": self.best_private,
            "best_score": self._best_score,
            "snapshot_routes": self._snapshot_routes,
            "wait": self._wait,
            "files": dict(self._files),
            "routes": self.routes,
            "validation_losses": self.validation_losses,
            "layer_sizes": {
                t: [len(layer) for layer in self._private_snapshot[t]]
                for t in self.tasks if self._private_snapshot[t] is not None
            },
        }

    def restore_checkpoint_state(self, state, folder):
        """Restores what `checkpoint_state` saved (before `fit` resumes)."""

        def arrays(name):
            return read_arrays(os.path.join(folder, name))

        self.best_private = dict(state["best_private"])
        self._best_score = state["best_score"]
        self._snapshot_routes = state["snapshot_routes"]
        self._wait = state["wait"]
        self._files = dict(state["files"])
        self.routes = dict(state.get("routes", {}))
        self.validation_losses = dict(state.get("validation_losses", {}))
        self._private_snapshot = {t: None for t in self.best_private}
        for t, sizes in state["layer_sizes"].items():
            flat = arrays(self._files[f"private-{t}"])
            layers, start = [], 0
            for size in sizes:
                layers.append(flat[start : start + size])
                start += size
            self._private_snapshot[t] = layers
        self._snapshot = arrays(self._files["model"]) if "model" in self._files else None
        self._dirty = {}
        self._restored = True

    def on_epoch_end(self, epoch, logs=None):
        candidates = self._route_losses()
        if logs is not None:
            for route, losses in candidates.items():
                for t, value in losses.items():
                    logs[f"safe_{t}_{route}"] = value
            for t in self.tasks:
                # The model's own validation loss, when fit had no validation data.
                if "learned" in candidates:
                    current = candidates["learned"][t]
                else:
                    current = candidates["private" if self._gates[t].uses_private_path else "public"][t]
                logs.setdefault(f"val_{t}_loss", current)
        improved = False
        for t in self.tasks:
            if candidates["private"][t] < self.best_private[t]:
                self.best_private[t] = candidates["private"][t]
                self._private_snapshot[t] = self._route_weights(t)
                self._dirty[f"private-{t}"] = True
                improved = True
        routes, score = {}, 0.0
        for t in self.tasks:
            route = min(candidates, key=lambda name: (candidates[name][t], ROUTES.index(name)))
            if not self._beats_private(candidates[route][t], candidates["private"][t]):
                route = "private"
            routes[t] = (route, candidates[route][t])
            best = self.best_private[t]
            # How far below its best private loss the task is; <= 0, scale-free.
            score += (min(routes[t][1], best) - best) / max(abs(best), 1e-12)
        if score < self._best_score:
            self._best_score = score
            self._snapshot = [np.copy(w) for w in self.model.get_weights()]
            self._snapshot_routes = routes
            self._dirty["model"] = True
            improved = True
        self._wait = 0 if improved else self._wait + 1
        if self._wait >= self.patience:
            self.model.stop_training = True

    def _beats_private(self, loss, private_loss):
        return loss < private_loss - self.margin * abs(private_loss)

    def on_train_end(self, logs=None):
        if self._snapshot is None:
            return
        self.model.set_weights(self._snapshot)
        self.routes, self.validation_losses = {}, {}
        for t in self.tasks:
            route, loss = self._snapshot_routes[t]
            if route == "private" or not self._beats_private(loss, self.best_private[t]):
                # The private path at its own best epoch: the task's single-task model.
                route, loss = "private", self.best_private[t]
                self._set_route_weights(t, self._private_snapshot[t])
            if route != "learned":
                self._gates[t].assign_private_weight(1.0 if route == "private" else 0.0)
            self.routes[t] = route
            self.validation_losses[t] = loss
