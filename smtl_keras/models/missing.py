"""Missing labels: NaN for float targets, negative ids for integer targets.

Real multi-task data is often labelled for only some tasks. The convention:

- a float label entry that is NaN is missing (regression targets, float
  0/1 labels);
- an integer label that is negative (use -1) is missing (class ids).

`MaskedLoss` and `MaskedMetric` wrap a task's loss and metrics so that a
missing label adds no loss, no gradient and no metric update, and the loss is
averaged over the labelled examples only: adding examples whose label for a
task is missing leaves that task's loss and gradient unchanged.
`compile_model` (and so every builder) wraps every task this way.
"""

import keras
from keras import ops


def _is_float(x):
    return "float" in str(x.dtype)


def label_mask(y_true, y_pred):
    """Where labels are present, and the labels with missing entries filled.

    Returns:
        `(present, filled)`: `present` is a boolean tensor with one entry per
        example (or per position, for dense integer labels such as
        segmentation masks); `filled` is `y_true` with missing entries
        replaced by values that give a finite loss (the prediction itself,
        without gradient, where shapes match; else 0).
    """
    y_true = ops.convert_to_tensor(y_true)
    if _is_float(y_true):
        missing = ops.isnan(y_true)
        if tuple(y_true.shape) == tuple(y_pred.shape):
            fill = ops.stop_gradient(ops.cast(y_pred, y_true.dtype))
        else:
            fill = ops.zeros_like(y_true)
        filled = ops.where(missing, fill, y_true)
    elif "int" in str(y_true.dtype):
        missing = y_true < 0
        filled = ops.where(missing, ops.zeros_like(y_true), y_true)
    else:
        missing = ops.zeros_like(y_true, dtype="bool")
        filled = y_true
    present = ops.logical_not(missing)
    if len(y_true.shape) == len(y_pred.shape) and len(y_true.shape) > 1:
        # Dense labels (one value per output unit): the example counts where
        # any of its entries is labelled.
        present = ops.any(present, axis=-1)
    return present, filled


@keras.saving.register_keras_serializable(package="smtl_keras")
class MaskedLoss(keras.losses.Loss):
    """A loss that ignores missing labels (NaN floats, negative integer ids).

    The per-example values of the wrapped loss are zeroed where the label is
    missing and the mean is taken over the labelled examples of the batch.

    Args:
        loss: The wrapped loss: a name, a `keras.losses.Loss` or a function.
    """

    def __init__(self, loss, name=None, reduction="sum_over_batch_size", dtype=None):
        self.loss = keras.losses.get(loss)
        if self.loss is None:
            raise ValueError(f"Unknown loss. Received: loss={loss!r}")
        if name is None:
            name = getattr(self.loss, "name", None) or getattr(self.loss, "__name__", "loss")
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        # Read the labels before Keras casts them to the loss dtype, so that
        # integer ids keep their -1.
        present, filled = label_mask(y_true, y_pred)
        weight = ops.cast(present, "float32")
        count = ops.sum(weight)
        total = ops.cast(ops.size(weight), "float32")
        # Keras divides the weighted sum by the number of values; this scale
        # makes the result the mean over the labelled examples only.
        weight = weight * (total / ops.maximum(count, 1.0))
        if sample_weight is not None:
            weight = weight * ops.cast(sample_weight, "float32")
        return super().__call__(filled, y_pred, sample_weight=weight)

    def call(self, y_true, y_pred):
        inner = self.loss.call if isinstance(self.loss, keras.losses.Loss) else self.loss
        return inner(y_true, y_pred)

    def get_config(self):
        config = super().get_config()
        config["loss"] = keras.losses.serialize(self.loss)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["loss"] = keras.losses.deserialize(config["loss"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="smtl_keras")
class MaskedMetric(keras.metrics.Metric):
    """A metric that skips missing labels (NaN floats, negative integer ids).

    Args:
        metric: The wrapped `keras.metrics.Metric` instance. The wrapper takes
            its name, so the logs keep the usual keys.
    """

    def __init__(self, metric, name=None, dtype=None):
        if not isinstance(metric, keras.metrics.Metric):
            metric = keras.metrics.deserialize(metric)
        super().__init__(name=name or metric.name, dtype=dtype or metric.dtype)
        self.metric = metric

    def update_state(self, y_true, y_pred, sample_weight=None):
        present, filled = label_mask(y_true, y_pred)
        weight = ops.cast(present, "float32")
        if sample_weight is not None:
            weight = weight * ops.cast(sample_weight, "float32")
        self.metric.update_state(filled, y_pred, sample_weight=weight)

    def result(self):
        return self.metric.result()

    def reset_state(self):
        self.metric.reset_state()

    def get_config(self):
        return {
            "metric": keras.metrics.serialize(self.metric),
            "name": self.name,
            "dtype": self.dtype,
        }


def _from_logits(loss):
    if isinstance(loss, keras.losses.Loss):
        return bool(loss.get_config().get("from_logits", False))
    return False


def _loss_name(loss):
    if isinstance(loss, str):
        return loss
    return getattr(loss, "name", None) or getattr(loss, "__name__", "") or ""


def resolve_metric(identifier, loss, output_shape):
    """A fresh `keras.metrics.Metric` for `identifier`, as `compile` would pick it.

    `"accuracy"`/`"acc"` and `"crossentropy"`/`"ce"` are resolved from the
    task's loss and output width: binary for one output unit (threshold 0 on
    logits when the loss takes logits), sparse categorical for sparse losses,
    else categorical.
    """
    if isinstance(identifier, keras.metrics.Metric):
        return identifier.__class__.from_config(identifier.get_config())
    if identifier in ("accuracy", "acc", "crossentropy", "ce"):
        logits = _from_logits(loss)
        binary = output_shape[-1] == 1
        sparse = "sparse" in _loss_name(loss).lower()
        if identifier in ("accuracy", "acc"):
            if binary:
                return keras.metrics.BinaryAccuracy(threshold=0.0 if logits else 0.5, name=identifier)
            if sparse:
                return keras.metrics.SparseCategoricalAccuracy(name=identifier)
            return keras.metrics.CategoricalAccuracy(name=identifier)
        if binary:
            return keras.metrics.BinaryCrossentropy(from_logits=logits, name=identifier)
        if sparse:
            return keras.metrics.SparseCategoricalCrossentropy(from_logits=logits, name=identifier)
        return keras.metrics.CategoricalCrossentropy(from_logits=logits, name=identifier)
    found = keras.metrics.get(identifier)
    if isinstance(found, keras.metrics.Metric):
        # Keep the name the user wrote ("mae"), as `compile` does.
        return found.__class__.from_config({**found.get_config(), "name": identifier})
    if isinstance(found, type) and issubclass(found, keras.metrics.Metric):
        return found(name=identifier if isinstance(identifier, str) else None)
    name = identifier if isinstance(identifier, str) else getattr(found, "__name__", None)
    return keras.metrics.MeanMetricWrapper(found, name=name)
