"""Fresh encoder and decoder blocks for the slots of a model."""

import keras


def clone_layer(layer, name):
    """A new, unbuilt copy of `layer` (same config, fresh weights) named `name`."""
    if isinstance(layer, keras.Model):
        clone = keras.models.clone_model(layer)
    else:
        clone = layer.__class__.from_config(layer.get_config())
    clone.name = name
    return clone


def make_block(spec, name, role):
    """Makes the block for one slot from a factory or a template.

    Args:
        spec: A callable `f(name)` returning a fresh Keras layer or model, or a
            Keras layer or model to clone with fresh weights.
        name: The slot's layer name, e.g. `"public_encoder"` or `"left_head"`.
        role: What the block is, for error messages (`"encoder"`, `"head"`).
    """
    if isinstance(spec, keras.layers.Layer):
        try:
            return clone_layer(spec, name)
        except Exception as error:
            raise ValueError(
                f"Could not clone the {role} template '{spec.name}' for slot "
                f"'{name}' ({type(error).__name__}: {error}). Pass a callable "
                "f(name) that returns a fresh layer or model instead."
            ) from error
    if not callable(spec):
        raise ValueError(
            f"The {role} must be a callable f(name) returning a Keras layer or "
            f"model, or a Keras layer or model to clone. Received: {spec!r}"
        )
    block = spec(name)
    if not isinstance(block, keras.layers.Layer):
        raise ValueError(
            f"The {role} factory must return a Keras layer or model; for slot "
            f"'{name}' it returned {block!r}"
        )
    if block.name != name:
        block.name = name
    return block


class BlockMaker:
    """Makes blocks and refuses a factory that hands out one layer twice."""

    def __init__(self):
        self._seen = {}

    def __call__(self, spec, name, role):
        block = make_block(spec, name, role)
        if id(block) in self._seen:
            raise ValueError(
                f"The {role} factory returned the same layer object for slots "
                f"'{self._seen[id(block)]}' and '{name}'; it must build a new "
                "layer or model with fresh weights on every call."
            )
        self._seen[id(block)] = name
        return block


def output_layer(task):
    """The last layer of a task's path, named after the task."""
    activation = task.output_activation
    if activation is None:
        return keras.layers.Identity(name=task.name)
    if activation == "unit_norm":
        return keras.layers.UnitNormalization(axis=-1, name=task.name)
    return keras.layers.Activation(activation, name=task.name)


def single_tensor(value, what):
    if not isinstance(value, keras.KerasTensor):
        raise ValueError(
            f"The {what} must return a single tensor. Received: {value!r}"
        )
    return value
