"""Compiling multi-task models with dicts keyed by task name."""

import keras

from smtl_keras.models.missing import MaskedLoss
from smtl_keras.models.missing import MaskedMetric
from smtl_keras.models.missing import resolve_metric
from smtl_keras.models.task import Task


def check_tasks(tasks):
    """Validates a list of tasks and returns it as a list."""
    if isinstance(tasks, Task):
        tasks = [tasks]
    if tasks is None or isinstance(tasks, (str, dict)):
        raise ValueError(
            f"tasks must be a non-empty list of smtl_keras.Task. Received: tasks={tasks!r}"
        )
    tasks = list(tasks)
    if not tasks:
        raise ValueError("tasks must be a non-empty list of smtl_keras.Task. Received: tasks=[]")
    for task in tasks:
        if not isinstance(task, Task):
            raise ValueError(
                f"Every task must be an smtl_keras.Task. Received: {task!r}"
            )
    names = [task.name for task in tasks]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(
            f"Task names must be unique. Received duplicates: {duplicates} in {names}"
        )
    return tasks


def check_task_dict(argument, value, tasks):
    """Checks that a per-task dict (loss, metrics...) is keyed by task names."""
    if value is None:
        return {}
    names = [task.name for task in tasks]
    if not isinstance(value, dict):
        raise ValueError(
            f"{argument} must be a dict keyed by task name ({names}). "
            f"Received: {argument}={value!r}"
        )
    unknown = sorted(key for key in value if key not in names)
    if unknown:
        raise ValueError(
            f"{argument} has keys that are not task names: {unknown}. "
            f"Accepted keys: {names}"
        )
    return dict(value)


def fresh_optimizer(optimizer):
    """A new optimizer with the same configuration (one per model)."""
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    return keras.optimizers.get(optimizer)


def output_names(model):
    outputs = model.output
    if not isinstance(outputs, dict):
        raise ValueError(
            f"Model '{model.name}' must have a dict of outputs keyed by task "
            f"name. Received outputs: {outputs!r}"
        )
    return list(outputs)


def compile_model(
    model,
    tasks,
    optimizer="adam",
    *,
    loss=None,
    loss_weights=None,
    metrics=None,
    **compile_kwargs,
):
    """Compiles a multi-output model with the losses and metrics of its tasks.

    Every dict is keyed by task name. Tasks that are not outputs of `model`
    are skipped, so the same call compiles a multi-task model and each of the
    single-task models of `build_stl_models`.

    Losses and metrics are wrapped to ignore missing labels (NaN in float
    targets, negative integer class ids; see `smtl_keras.models.missing`):
    a missing label adds no loss, no gradient and no metric update. Metric
    objects are copied, so models never share metric state; `"accuracy"` is
    resolved from the task's loss (binary with a threshold of 0 on logits,
    sparse or categorical).

    Args:
        model: A Keras model whose outputs are a dict keyed by task name.
        tasks: List of `smtl_keras.Task`.
        optimizer: Optimizer name or instance (used as given; a model
            needs an instance of its own).
        loss: Optional dict `{task_name: loss}` overriding the tasks' losses.
        loss_weights: Optional dict `{task_name: float}` overriding the
            tasks' loss weights.
        metrics: Optional dict `{task_name: [metrics]}` overriding the tasks'
            metrics.
        **compile_kwargs: Passed to `model.compile` (e.g. `jit_compile`).

    Returns:
        The model, compiled.
    """
    tasks = check_tasks(tasks)
    loss = check_task_dict("loss", loss, tasks)
    loss_weights = check_task_dict("loss_weights", loss_weights, tasks)
    metrics = check_task_dict("metrics", metrics, tasks)
    names = output_names(model)
    by_name = {task.name: task for task in tasks}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise ValueError(
            f"Model '{model.name}' has outputs {missing} for which no task was "
            f"given. Tasks: {list(by_name)}"
        )
    model_tasks = [by_name[name] for name in names]
    losses = {t.name: loss.get(t.name, t.loss) for t in model_tasks}
    model.compile(
        optimizer=optimizer,
        loss={name: MaskedLoss(value) for name, value in losses.items()},
        loss_weights={
            t.name: float(loss_weights.get(t.name, t.loss_weight)) for t in model_tasks
        },
        metrics={
            t.name: [
                MaskedMetric(resolve_metric(m, losses[t.name], model.output[t.name].shape))
                for m in metrics.get(t.name, t.metrics)
            ]
            for t in model_tasks
        },
        **compile_kwargs,
    )
    return model
