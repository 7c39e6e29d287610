"""One registry of architectures: builders, training and tests loop over it."""

import dataclasses
from typing import Callable

from smtl_keras.models import builders


@dataclasses.dataclass(frozen=True)
class Architecture:
    """An architecture that `build_model` can build by name.

    Attributes:
        name: Registry key, e.g. `"smtl"`.
        builder: `f(inputs, encoder, tasks, **options)`; returns a
            `keras.Model`, or a dict `{task_name: keras.Model}` when
            `per_task` is True.
        description: One line for help texts and tables.
        options: Fixed keyword arguments given to `builder` (e.g. the variant).
        gated: Whether the models have gates (`gate_values` is not empty).
        lite: Whether the gates are hard (`prune_lite` applies).
        per_task: Whether the builder returns one model per task (STL).
    """

    name: str
    builder: Callable
    description: str
    options: dict = dataclasses.field(default_factory=dict)
    gated: bool = False
    lite: bool = False
    per_task: bool = False

    @property
    def gate_options(self):
        """The builder options that only gated architectures accept."""
        if not self.gated:
            return ()
        shared = ("seed", "logit_scale", "path_dropout", "path_loss")
        return shared + (("temperature",) if self.lite else ("gate",))


ARCHITECTURES = {}


def register_architecture(architecture):
    """Adds an `Architecture` to the registry (its name must be new)."""
    if architecture.name in ARCHITECTURES:
        raise ValueError(f"Architecture {architecture.name!r} is already registered.")
    ARCHITECTURES[architecture.name] = architecture
    return architecture


def get_architecture(name):
    if name not in ARCHITECTURES:
        raise ValueError(
            f"Unknown architecture. Accepted: {', '.join(ARCHITECTURES)}. "
            f"Received: {name!r}"
        )
    return ARCHITECTURES[name]


def build_model(architecture, inputs, encoder, tasks, **kwargs):
    """Builds the registered architecture `architecture` by name.

    Gate options (`gate`, `temperature`, `seed`, `logit_scale`,
    `path_dropout`, `path_loss`) are dropped for
    architectures that do not take them, so one set of options builds every
    architecture of a comparison.

    Returns:
        A `keras.Model`, or for per-task architectures (`"stl"`) a dict
        `{task_name: keras.Model}`.
    """
    spec = get_architecture(architecture)
    for option in ("gate", "temperature", "seed", "logit_scale", "path_dropout", "path_loss"):
        if option in kwargs and option not in spec.gate_options:
            kwargs.pop(option)
    return spec.builder(inputs, encoder, tasks, **spec.options, **kwargs)


for _architecture in (
    Architecture(
        "stl", builders.build_stl_models,
        "single-task learning: one encoder and one head per task, separate models",
        per_task=True,
    ),
    Architecture(
        "hps", builders.build_hps_model,
        "hard parameter sharing: one shared encoder, one head per task",
    ),
    Architecture(
        "smtl", builders.build_smtl_model,
        "SMTL: public + private encoders mixed by a soft gate per task",
        options={"variant": "smtl"}, gated=True,
    ),
    Architecture(
        "lite", builders.build_smtl_model,
        "L-SMTL: a hard gate picks the public or the private encoder per task",
        options={"variant": "lite"}, gated=True, lite=True,
    ),
    Architecture(
        "smtl_decoder", builders.build_smtl_model,
        "SMTL with soft gates after the decoders",
        options={"variant": "smtl_decoder"}, gated=True,
    ),
    Architecture(
        "lite_decoder", builders.build_smtl_model,
        "L-SMTL with hard gates after the decoders",
        options={"variant": "lite_decoder"}, gated=True, lite=True,
    ),
):
    register_architecture(_architecture)
