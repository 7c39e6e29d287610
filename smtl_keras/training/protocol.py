"""The fair protocol: every architecture trained the same way, resumable run by run."""

import contextlib
import dataclasses
import os
import shutil
import time

import keras

from smtl_keras.export import export_for_serving
from smtl_keras.models import build_model
from smtl_keras.models import gate_values
from smtl_keras.models import get_architecture
from smtl_keras.models import prune_lite
from smtl_keras.training.callbacks import GateLogger
from smtl_keras.training.checkpoint import TrainingCheckpoint
from smtl_keras.training.safe import SafeSharing
from smtl_keras.training.safety import task_logs
from smtl_keras.utils.io import atomic_path
from smtl_keras.utils.io import read_json
from smtl_keras.utils.io import write_json

RESULT = "result.json"


@dataclasses.dataclass(frozen=True)
class Protocol:
    """What every architecture of a comparison shares.

    Attributes:
        epochs: Epoch budget of every model.
        learning_rate: Adam's learning rate.
        patience: Early-stopping patience on the validation loss (the best
            epoch's weights are restored); None trains the whole budget.
        jit_compile: Passed to `model.compile`.
        gate: Soft gate parameterisation of the gated architectures.
        temperature: Gumbel-softmax temperature of the lite architectures.
        logit_scale: Gate logit scale of the gated architectures.
        path_dropout: Path dropout of the gated architectures; None takes
            each variant's default (`DEFAULT_PATH_DROPOUT`).
        path_loss: Weight of every path's own loss in the gated
            architectures' training (see `SMTLModel`); 0 by default.
        safe_sharing: Train the gated architectures with `SafeSharing`
            (routes chosen per task on the validation split, which also does
            the early stopping) instead of early stopping on the validation
            loss. False and `path_dropout=0` is the paper's training.
    """

    epochs: int = 200
    learning_rate: float = 1e-3
    patience: int | None = 10
    jit_compile: bool = False
    gate: str = "softmax"
    temperature: float = 0.1
    logit_scale: float = 1.0
    path_dropout: float | None = None
    path_loss: float = 0.0
    safe_sharing: bool = True


def run_folder(output_dir, architecture, seed):
    return os.path.join(output_dir, "runs", architecture, f"seed_{seed}")


def finished_result(output_dir, architecture, seed):
    """The result of a finished run, or None."""
    path = os.path.join(run_folder(output_dir, architecture, seed), RESULT)
    return read_json(path) if os.path.exists(path) else None


def _fit(model, task_names, data, protocol, seed, folder, verbose, safe):
    validation = data.validation
    if list(task_names) != data.task_names:
        validation = data.select(validation, task_names)
    companions = []
    if safe:
        companions.append(SafeSharing(validation, patience=protocol.patience or protocol.epochs))
        checkpoint = TrainingCheckpoint(folder, monitor=None, companions=companions)
    else:
        checkpoint = TrainingCheckpoint(folder, monitor="val_loss", patience=protocol.patience)
    if checkpoint.finished:
        checkpoint.load_final(model)
        return checkpoint, companions
    checkpoint.load_latest(model)
    start = checkpoint.initial_epoch
    epochs = checkpoint.epochs(protocol.epochs)
    train = data.train_epochs(start, max(epochs, start + 1), seed)
    if list(task_names) != data.task_names:
        train = data.select(train, task_names)
    model.fit(
        train,
        steps_per_epoch=data.steps_per_epoch,
        epochs=epochs,
        initial_epoch=start,
        # SafeSharing measures the validation routes itself, in one pass.
        validation_data=None if safe else validation,
        callbacks=[GateLogger(), *companions, checkpoint],
        verbose=verbose,
    )
    return checkpoint, companions


def _evaluate(model, task_names, data):
    test = data.test
    if list(task_names) != data.task_names:
        test = data.select(test, task_names)
    logs = model.evaluate(test, return_dict=True, verbose=0)
    return task_logs(logs, task_names)


def _save_model(model, path):
    with atomic_path(path, suffix=".keras") as temporary:
        model.save(temporary)


def train_architecture(
    architecture,
    data,
    protocol,
    seed,
    output_dir,
    export_dir=None,
    strategy=None,
    verbose=2,
):
    """Trains one architecture with one seed, or returns its finished result.

    Writes `output_dir/runs/<architecture>/seed_<seed>/`: the trained model(s)
    (`.keras`), `history.json` and, last, `result.json`. Killed and started
    again, it continues from the last completed epoch.

    Returns:
        The result dict: `architecture`, `seed`, `test` (the safety metric per
        task), `test_metrics` (every test metric per task), `params`,
        `pruned_params`, `gates`, `routes` (with `SafeSharing`: the route each
        task ended on), `epochs`, `best_epoch`, `seconds`, `export`.
    """
    done = finished_result(output_dir, architecture, seed)
    if done is not None:
        return done
    spec = get_architecture(architecture)
    folder = run_folder(output_dir, architecture, seed)
    os.makedirs(folder, exist_ok=True)
    started = time.time()
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        keras.utils.set_random_seed(seed)
        built = build_model(
            architecture,
            data.inputs(),
            data.encoder,
            data.tasks,
            optimizer=keras.optimizers.Adam(protocol.learning_rate),
            jit_compile=protocol.jit_compile,
            gate=protocol.gate,
            temperature=protocol.temperature,
            logit_scale=protocol.logit_scale,
            path_dropout=protocol.path_dropout,
            path_loss=protocol.path_loss,
            seed=seed,
        )
        models = built if spec.per_task else {"model": built}
        safe = spec.gated and protocol.safe_sharing
        histories, best_epochs, epochs, metrics, routes = {}, {}, {}, {}, {}
        for key, model in models.items():
            task_names = list(model.output)
            checkpoint, companions = _fit(
                model, task_names, data, protocol, seed,
                os.path.join(folder, "checkpoints", key), verbose, safe,
            )
            for companion in companions:
                routes.update(companion.routes)
            histories[key] = checkpoint.history
            best_epochs[key] = checkpoint.best_epoch
            epochs[key] = checkpoint.initial_epoch
            metrics.update(_evaluate(model, task_names, data))
            _save_model(model, os.path.join(folder, f"{key}.keras"))

        result = {
            "architecture": architecture,
            "seed": seed,
            "test": {t.name: metrics[t.name][t.safety_metric] for t in data.tasks},
            "test_metrics": metrics,
            "params": int(sum(m.count_params() for m in models.values())),
            "pruned_params": None,
            "gates": {},
            "epochs": epochs,
            "best_epoch": best_epochs,
            "routes": routes,
            "export": [],
        }
        if spec.gated:
            result["gates"] = gate_values(models["model"])
        pruned = None
        if spec.lite:
            pruned = prune_lite(models["model"])
            result["pruned_params"] = int(pruned.count_params())
            result["pruned_private"] = {
                t.name: f"{t.name}_private_encoder" in {l.name for l in pruned.layers}
                for t in data.tasks
            }
        if export_dir is not None and not spec.per_task:
            result["export"].append(
                export_for_serving(models["model"], os.path.join(export_dir, architecture))
            )
            if pruned is not None:
                result["export"].append(
                    export_for_serving(pruned, os.path.join(export_dir, f"{architecture}_pruned"))
                )
    result["seconds"] = round(time.time() - started, 2)
    write_json(os.path.join(folder, "history.json"), histories)
    write_json(os.path.join(folder, RESULT), result)
    shutil.rmtree(os.path.join(folder, "checkpoints"), ignore_errors=True)
    return result

