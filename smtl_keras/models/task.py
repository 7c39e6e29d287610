import keyword
import re

import keras

# Task names become layer names, dict keys of outputs, losses and metrics,
# SavedModel signature keys, CSV columns and flag values: keep them simple.
_TASK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

OUTPUT_ACTIVATIONS_EXTRA = ("unit_norm",)

_HIGHER_IS_BETTER = (
    "acc", "auc", "precision", "recall", "iou", "f1", "fbeta", "r2", "top_k",
    "true_positives", "true_negatives", "pearson", "concordance",
)
_LOWER_IS_BETTER = (
    "loss", "error", "mse", "mae", "rmse", "mape", "msle", "crossentropy",
    "hinge", "squared", "absolute", "log_cosh", "logcosh", "poisson", "kl",
    "huber", "false_positives", "false_negatives",
)


def metric_name(metric):
    """The name Keras gives `metric` in the logs (without the task prefix)."""
    if isinstance(metric, str):
        return metric
    name = getattr(metric, "name", None) or getattr(metric, "__name__", None)
    if not name:
        raise ValueError(
            "A metric must be a string, a keras.metrics.Metric or a named "
            f"function. Received: metric={metric!r}"
        )
    return name


def infer_higher_is_better(name):
    """Whether a higher value of the metric called `name` is better, or None."""
    lowered = name.lower()
    # Losses first, so that a name such as "accuracy_loss" counts as a loss.
    if any(token in lowered for token in _LOWER_IS_BETTER):
        return False
    if any(token in lowered for token in _HIGHER_IS_BETTER):
        return True
    return None


def check_task_name(name):
    if not isinstance(name, str) or not _TASK_NAME.match(name) or keyword.iskeyword(name):
        raise ValueError(
            "A task name must start with a letter and contain only letters, "
            "digits and underscores (it becomes a layer name, an output key "
            f"and a SavedModel signature key). Received: name={name!r}"
        )


class Task:
    """One task of a multi-task model.

    Args:
        name: The task's name. It names the task's output layer and is the key
            of the task in the model's outputs, in loss, loss-weight and metric
            dicts, in dataset targets, in exported signatures and in reports.
            Letters, digits and underscores, starting with a letter.
        head: Builds the task's decoder. Either a callable `f(name)` that
            returns a fresh Keras layer or model (called once per slot), or a
            Keras layer or model used as a template and cloned with fresh
            weights for every slot. The head maps the encoder features to the
            task's prediction before `output_activation`.
        loss: A Keras loss (string, `keras.losses.Loss` or function).
        metrics: Optional list of Keras metrics for this task.
        loss_weight: Non-negative float, the weight of this task's loss in the
            total loss.
        output_activation: Optional activation applied to the task's
            prediction in the layer named after the task. A Keras activation
            name such as `"softmax"`, or `"unit_norm"` to L2-normalise
            unit-vector outputs (surface normals). Gates after decoders mix
            before it (on logits), as the method prescribes.
        safety_metric: The metric that judges this task for safety, by its
            name in the logs (without the task prefix). Defaults to the first
            metric, or `"loss"` when there are none.
        higher_is_better: Whether a higher `safety_metric` is better. Inferred
            from well-known names (accuracy, AUC, IoU: higher; loss, MSE, MAE,
            error: lower); required for other names.

    Example:

    >>> task = Task(
    ...     "digit",
    ...     head=lambda name: keras.layers.Dense(10, name=name),
    ...     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    ...     metrics=["accuracy"],
    ... )
    >>> task.safety_metric, task.higher_is_better
    ('accuracy', True)
    """

    def __init__(
        self,
        name,
        head,
        loss,
        metrics=None,
        loss_weight=1.0,
        output_activation=None,
        safety_metric=None,
        higher_is_better=None,
    ):
        check_task_name(name)
        self.name = name
        if not (isinstance(head, keras.layers.Layer) or callable(head)):
            raise ValueError(
                f"Task '{name}': head must be a callable f(name) returning a "
                "Keras layer or model, or a Keras layer or model to clone. "
                f"Received: head={head!r}"
            )
        self.head = head
        if loss is None:
            raise ValueError(f"Task '{name}': a loss is required. Received: loss=None")
        self.loss = loss
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, keras.metrics.Metric)) or not isinstance(
            metrics, (list, tuple)
        ):
            metrics = [metrics]
        self.metrics = list(metrics)
        for metric in self.metrics:
            metric_name(metric)
        try:
            loss_weight = float(loss_weight)
        except (TypeError, ValueError):
            loss_weight = float("nan")
        if not loss_weight >= 0:
            raise ValueError(
                f"Task '{name}': loss_weight must be a non-negative number. "
                f"Received: loss_weight={loss_weight!r}"
            )
        self.loss_weight = loss_weight
        if output_activation is not None and output_activation not in (
            OUTPUT_ACTIVATIONS_EXTRA
        ):
            try:
                keras.activations.get(output_activation)
            except ValueError as error:
                raise ValueError(
                    f"Task '{name}': unknown output_activation. Accepted: None, "
                    "a Keras activation name such as 'softmax' or 'sigmoid', "
                    f"or 'unit_norm'. Received: output_activation={output_activation!r}"
                ) from error
        self.output_activation = output_activation

        metric_names = [metric_name(m) for m in self.metrics]
        if safety_metric is None:
            safety_metric = metric_names[0] if metric_names else "loss"
        elif safety_metric != "loss" and safety_metric not in metric_names:
            raise ValueError(
                f"Task '{name}': safety_metric must be 'loss' or the name of "
                f"one of its metrics {metric_names}. "
                f"Received: safety_metric={safety_metric!r}"
            )
        self.safety_metric = safety_metric
        if higher_is_better is None:
            higher_is_better = infer_higher_is_better(safety_metric)
            if higher_is_better is None:
                raise ValueError(
                    f"Task '{name}': cannot tell whether a higher "
                    f"'{safety_metric}' is better. Pass higher_is_better=True "
                    "or higher_is_better=False."
                )
        self.higher_is_better = bool(higher_is_better)

    @property
    def metric_names(self):
        return [metric_name(m) for m in self.metrics]

    def __repr__(self):
        return (
            f"Task(name={self.name!r}, loss={self.loss!r}, "
            f"metrics={self.metric_names}, loss_weight={self.loss_weight}, "
            f"safety_metric={self.safety_metric!r}, "
            f"higher_is_better={self.higher_is_better})"
        )
