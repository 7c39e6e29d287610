"""Builders, the architecture registry, and helpers around built models."""

from smtl_keras.models.builders import DEFAULT_PATH_DROPOUT
from smtl_keras.models.builders import VARIANTS
from smtl_keras.models.builders import build_hps_model
from smtl_keras.models.builders import build_smtl_model
from smtl_keras.models.builders import build_stl_models
from smtl_keras.models.compiling import compile_model
from smtl_keras.models.gates import gate_layers
from smtl_keras.models.gates import gate_values
from smtl_keras.models.gates import set_gate_values
from smtl_keras.models.prune import prune_lite
from smtl_keras.models.registry import ARCHITECTURES
from smtl_keras.models.registry import Architecture
from smtl_keras.models.registry import build_model
from smtl_keras.models.registry import get_architecture
from smtl_keras.models.registry import register_architecture
from smtl_keras.models.smtl_model import SMTLModel
from smtl_keras.models.task import Task
