"""Reading and setting the gates of a model, by task name."""

from smtl_keras.layers import BaseGate

_SUFFIX = "_gate"


def gate_layers(model):
    """The gate layers of `model` as a dict `{task_name: layer}`."""
    gates = {}
    for layer in model.layers:
        if isinstance(layer, BaseGate):
            name = layer.name
            gates[name[: -len(_SUFFIX)] if name.endswith(_SUFFIX) else name] = layer
    return gates


def gate_values(model):
    """The current weight of the private path for every task of `model`.

    For soft gates (`Gate`) this is `w_priv`; for hard gates (`LiteGate`) it
    is the probability `p` of the private path, whose inference choice is
    private when `p >= 0.5`.

    Returns:
        A dict `{task_name: float}`; empty for models without gates (single-
        task, hard sharing, pruned lite models).
    """
    return {task: layer.private_weight for task, layer in gate_layers(model).items()}


def set_gate_values(model, values):
    """Sets the private weight of the named tasks' gates.

    `1.0` routes a task fully through its private path (its single-task
    model), `0.0` fully through the public path. For soft `"sigmoid"` gates
    the public weight is set to `1 - value`.

    Args:
        model: A model built by `build_smtl_model`.
        values: Dict `{task_name: float in [0, 1]}`.
    """
    gates = gate_layers(model)
    unknown = sorted(set(values) - set(gates))
    if unknown:
        raise ValueError(
            f"Model '{model.name}' has no gates for {unknown}. "
            f"Tasks with gates: {sorted(gates)}"
        )
    for task, value in values.items():
        gates[task].assign_private_weight(value)
