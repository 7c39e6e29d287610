"""Safe Multi-Task Learning (SMTL) for Keras 3.

Public API: `Task`, the builders `build_smtl_model`, `build_hps_model` and
`build_stl_models` (and `build_model` over the `ARCHITECTURES` registry),
`compile_model`, `gate_values`, `set_gate_values`, `GateLogger`,
`prune_lite`, `export_for_serving`, and the layers in `smtl_keras.layers`.
"""

__version__ = "0.1.0"

from smtl_keras import layers
from smtl_keras.export import export_for_serving
from smtl_keras.models import ARCHITECTURES
from smtl_keras.models import VARIANTS
from smtl_keras.models import Architecture
from smtl_keras.models import Task
from smtl_keras.models import build_hps_model
from smtl_keras.models import build_model
from smtl_keras.models import build_smtl_model
from smtl_keras.models import build_stl_models
from smtl_keras.models import compile_model
from smtl_keras.models import gate_values
from smtl_keras.models import prune_lite
from smtl_keras.models import register_architecture
from smtl_keras.models import set_gate_values
from smtl_keras.training import GateLogger

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "GateLogger",
    "Task",
    "VARIANTS",
    "build_hps_model",
    "build_model",
    "build_smtl_model",
    "build_stl_models",
    "compile_model",
    "export_for_serving",
    "gate_values",
    "layers",
    "prune_lite",
    "register_architecture",
    "set_gate_values",
]
