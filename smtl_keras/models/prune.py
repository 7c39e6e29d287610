"""Pruning a lite (hard-gated) model to the paths it uses at inference."""

import keras

from smtl_keras.layers import LiteGate
from smtl_keras.models.blocks import clone_layer
from smtl_keras.models.builders import PUBLIC_ENCODER
from smtl_keras.models.builders import head_name
from smtl_keras.models.builders import private_encoder_name
from smtl_keras.models.compiling import output_names
from smtl_keras.models.gates import gate_layers


def _new_inputs(structure):
    if isinstance(structure, dict):
        return {key: _new_inputs(value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_new_inputs(value) for value in structure]
    return keras.Input(
        shape=structure.shape[1:], dtype=structure.dtype, sparse=structure.sparse,
        name=structure.name,
    )


def _apply_copy(layer, inputs):
    """Calls a copy of `layer` that holds the same weights on `inputs`."""
    try:
        copy = clone_layer(layer, layer.name)
    except Exception:
        # Layers that cannot be rebuilt from their config are shared instead.
        return layer(inputs)
    outputs = copy(inputs)
    copy.set_weights(layer.get_weights())
    return outputs


def prune_lite(model):
    """Builds the inference model of a lite (L-SMTL) model, without unused paths.

    Every task keeps only the path its hard gate chooses at inference (private
    when `p >= 0.5`): the chosen encoder and, for `"lite_decoder"`, the
    chosen decoder. The public encoder is kept only if some task chose it.
    Gate layers are dropped. Predictions equal the lite model's in inference
    mode.

    The returned model holds copies of the kept layers (with their weights),
    so it does not change when the original is trained further. It is not
    compiled; export it with `export_for_serving`.

    Args:
        model: A model built with `variant="lite"` or `variant="lite_decoder"`.

    Returns:
        A functional `keras.Model` with the same inputs and output names.
    """
    gates = gate_layers(model)
    soft = sorted(task for task, layer in gates.items() if not isinstance(layer, LiteGate))
    if not gates or soft:
        found = f"soft Gate layers for tasks {soft}" if soft else "no gate layers"
        raise ValueError(
            "prune_lite needs a lite model (variant 'lite' or 'lite_decoder'), "
            f"whose hard gates pick one path per task; model '{model.name}' has "
            f"{found}. Soft gates mix both encoders, so neither can be dropped."
        )
    layer_names = {layer.name for layer in model.layers}
    inputs = _new_inputs(model.input)
    encoded = {}
    outputs = {}
    for task in output_names(model):
        if task not in gates:
            raise ValueError(
                f"Model '{model.name}' has no gate for its output '{task}'; "
                "prune_lite expects a model built by build_smtl_model."
            )
        private = gates[task].uses_private_path
        encoder = private_encoder_name(task) if private else PUBLIC_ENCODER
        if encoder not in encoded:
            encoded[encoder] = _apply_copy(model.get_layer(encoder), inputs)
        head = head_name(task)
        if head not in layer_names:
            head = head_name(task, "private" if private else "public")
        prediction = _apply_copy(model.get_layer(head), encoded[encoder])
        outputs[task] = _apply_copy(model.get_layer(task), prediction)
    return keras.Model(inputs, outputs, name=f"{model.name}_pruned")
