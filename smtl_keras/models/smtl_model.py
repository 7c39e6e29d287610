"""The SMTL model class: a functional model that can also train each path on its own."""

import keras

from smtl_keras.models.blocks import single_tensor
from smtl_keras.models.gates import gate_layers
from smtl_keras.models.names import head_name

PATH_SEPARATOR = "__path_"
PATHS = ("public", "private")


def path_key(task, path):
    """The output key of task `task`'s route `path` ("public", "private", ...) in helper models."""
    return f"{task}{PATH_SEPARATOR}{path}"


def check_path_loss(value):
    """`value` as a float; a ValueError unless it is a number >= 0."""
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and value >= 0):
        raise ValueError(f"path_loss must be a number >= 0. Received: path_loss={value!r}")
    return float(value)


def _gate_inputs(model, gate):
    """The public and private tensors that `gate` mixes in `model`'s graph."""
    # A gate of a built model is called exactly once, as
    # gate(public, private) or gate(public=..., private=...); its node keeps them.
    calls = []
    for node in gate._inbound_nodes:
        arguments = dict(zip(PATHS, node.arguments.args))
        arguments.update({k: v for k, v in node.arguments.kwargs.items() if k in PATHS})
        if len(arguments) == len(PATHS):
            calls.append(arguments)
    if len(calls) != 1:
        raise ValueError(
            f"Gate '{gate.name}' of model '{model.name}' must be called exactly "
            f"once, on a public and a private tensor; it has {len(calls)} such calls."
        )
    return calls[0]["public"], calls[0]["private"]


def path_outputs(model):
    """Symbolic outputs of every task's public and private path alone.

    For a model from `build_smtl_model`: the task's prediction with its gate
    fully public and fully private, as tensors over the same layers (so
    building a model on them shares the weights). Built once per model.

    Returns:
        `{task: {"public": KerasTensor, "private": KerasTensor}}`.
    """
    cached = model.__dict__.get("_smtl_path_outputs")
    if cached is not None:
        return cached
    names = {layer.name for layer in model.layers}
    outputs = {}
    for task, gate in gate_layers(model).items():
        public, private = _gate_inputs(model, gate)
        if head_name(task) in names:  # gates after the encoders: one head for both paths
            head = model.get_layer(head_name(task))
            public = single_tensor(head(public), "head")
            private = single_tensor(head(private), "head")
        out = model.get_layer(task)
        outputs[task] = {"public": out(public), "private": out(private)}
    # Not a tracked attribute: these are graph tensors, not state to save.
    object.__setattr__(model, "_smtl_path_outputs", outputs)
    return outputs


def per_output(value, names, what):
    """A compile argument (dict, list or single value) as a dict keyed by output name."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(
                f"{what} must have one entry per output {names}. Received: {what}={value!r}"
            )
        return dict(zip(names, value))
    return {name: value for name in names}


def _loss_object(loss):
    loss = keras.losses.get(loss)
    if loss is None or isinstance(loss, keras.losses.Loss):
        return loss
    return keras.losses.LossFunctionWrapper(loss)


@keras.saving.register_keras_serializable(package="smtl_keras")
class SMTLModel(keras.Model):
    """A functional SMTL model whose training can also fit every path alone.

    `build_smtl_model` returns this class. It is a functional `keras.Model`
    (outputs a dict keyed by task name) with one addition: with
    `path_loss > 0`, the training loss is

        loss(gate outputs) + path_loss * sum_t w_t * (L_t(public path alone) + L_t(private path alone))

    where `L_t` and `w_t` are task t's compiled loss and loss weight. Every
    path then learns to predict its task on every training example: the
    private path is a single-task model trained on all the data, the public
    path a hard-sharing model, whatever the gate does. The paths' losses are
    computed in the same forward pass (the encoders run once; with gates
    after the encoders, each task's head runs three times).

    Inference, evaluation, validation losses and metrics see only the gate
    outputs, and the model saves, loads and exports like any functional
    model.

    Args:
        inputs, outputs, name: As for a functional `keras.Model`.
        path_loss: Non-negative weight of the paths' own losses; 0 trains
            the gate outputs only (the paper's training).
    """

    def __init__(self, *args, path_loss=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.path_loss = check_path_loss(path_loss)
        self._set_untracked("_smtl_training_model", None)
        self._set_untracked("_smtl_task_losses", {})
        if self.path_loss > 0:
            outputs = dict(self.output)
            for task, paths in path_outputs(self).items():
                for path, tensor in paths.items():
                    outputs[path_key(task, path)] = tensor
            self._set_untracked(
                "_smtl_training_model",
                keras.Model(self.input, outputs, name=f"{self.name}_paths"),
            )

    def _set_untracked(self, name, value):
        # Helpers over the same layers are not state to track or save.
        object.__setattr__(self, name, value)

    def get_config(self):
        config = super().get_config()
        config["path_loss"] = self.path_loss
        return config

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, **kwargs):
        super().compile(optimizer=optimizer, loss=loss, loss_weights=loss_weights, **kwargs)
        names = list(self.output)
        losses = per_output(loss, names, "loss")
        weights = per_output(loss_weights, names, "loss_weights")
        task_losses = {}
        for name in names:
            task_loss = _loss_object(losses.get(name))
            if task_loss is not None:
                task_losses[name] = (task_loss, float(weights.get(name, 1.0)))
        self._set_untracked("_smtl_task_losses", task_losses)

    def compile_from_config(self, config):
        # Keras skips models whose compile() is overridden; this one only
        # records the per-task losses, so loading compiles it as usual.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def call(self, inputs, training=None, mask=None, **kwargs):
        if training and self._smtl_training_model is not None:
            return self._smtl_training_model(inputs, training=training, mask=mask, **kwargs)
        return super().call(inputs, training=training, mask=mask, **kwargs)

    @staticmethod
    def _split(y_pred):
        """`(gate outputs, path outputs)` of what `call` returned."""
        if not isinstance(y_pred, dict):
            return y_pred, {}
        outputs = {k: v for k, v in y_pred.items() if PATH_SEPARATOR not in k}
        paths = {k: v for k, v in y_pred.items() if PATH_SEPARATOR in k}
        return outputs, paths

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        outputs, paths = self._split(y_pred)
        loss = super().compute_loss(
            x=x, y=y, y_pred=outputs, sample_weight=sample_weight, training=training
        )
        if not paths or y is None:
            return loss
        names = list(self.output)
        targets = per_output(y, names, "y")
        weights = (
            per_output(sample_weight, names, "sample_weight")
            if sample_weight is not None else {}
        )
        terms = []
        for key, prediction in paths.items():
            task = key.split(PATH_SEPARATOR)[0]
            if task not in targets or task not in self._smtl_task_losses:
                continue
            task_loss, weight = self._smtl_task_losses[task]
            value = task_loss(targets[task], prediction, sample_weight=weights.get(task))
            terms.append(weight * value)
        if not terms:
            return loss
        return loss + self.path_loss * keras.ops.sum(keras.ops.stack(terms))

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, y, self._split(y_pred)[0], sample_weight=sample_weight)
