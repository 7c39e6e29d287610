"""Safe Multi-Task Learning (SMTL) for Keras 3.

Public API: `Task`, the builders `build_smtl_model`, `build_hps_model` and
`build_stl_models` (and `build_model` over the `ARCHITECTURES` registry),
`compile_model`, `gate_values`, `set_gate_values`, `GateLogger`,
`SafeSharing`, `TrainingCheckpoint`, `prune_lite`, `export_for_serving`,
`load_dataset`, `run_comparison` with its `Protocol`, `summarize` and
`format_report`, and the gate layers in `smtl_keras.layers`.

Importing the package imports TensorFlow with its C++ start-up banner muted
(oneDNN and CUDA probing lines printed before any log level applies); set the
environment variable `SMTL_KERAS_SHOW_TF_BANNER=1` to see it.
"""

import os as _os
import sys as _sys

from smtl_keras.utils.quiet import quiet_stderr as _quiet_stderr

__version__ = "0.1.0"

if "tensorflow" not in _sys.modules and not _os.environ.get("SMTL_KERAS_SHOW_TF_BANNER"):
    with _quiet_stderr():
        import tensorflow as _tensorflow  # noqa: F401

from smtl_keras import layers  # noqa: E402
from smtl_keras.data import DATASETS  # noqa: E402
from smtl_keras.data import MultiTaskData  # noqa: E402
from smtl_keras.data import load_dataset  # noqa: E402
from smtl_keras.export import export_for_serving  # noqa: E402
from smtl_keras.models import ARCHITECTURES  # noqa: E402
from smtl_keras.models import DEFAULT_PATH_DROPOUT  # noqa: E402
from smtl_keras.models import VARIANTS  # noqa: E402
from smtl_keras.models import Architecture  # noqa: E402
from smtl_keras.models import SMTLModel  # noqa: E402
from smtl_keras.models import Task  # noqa: E402
from smtl_keras.models import build_hps_model  # noqa: E402
from smtl_keras.models import build_model  # noqa: E402
from smtl_keras.models import build_smtl_model  # noqa: E402
from smtl_keras.models import build_stl_models  # noqa: E402
from smtl_keras.models import compile_model  # noqa: E402
from smtl_keras.models import gate_values  # noqa: E402
from smtl_keras.models import prune_lite  # noqa: E402
from smtl_keras.models import register_architecture  # noqa: E402
from smtl_keras.models import set_gate_values  # noqa: E402
from smtl_keras.training import GateLogger  # noqa: E402
from smtl_keras.training import Protocol  # noqa: E402
from smtl_keras.training import SafeSharing  # noqa: E402
from smtl_keras.training import TrainingCheckpoint  # noqa: E402
from smtl_keras.training import format_report  # noqa: E402
from smtl_keras.training import run_comparison  # noqa: E402
from smtl_keras.training import summarize  # noqa: E402

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "DATASETS",
    "DEFAULT_PATH_DROPOUT",
    "GateLogger",
    "MultiTaskData",
    "Protocol",
    "SMTLModel",
    "SafeSharing",
    "Task",
    "TrainingCheckpoint",
    "VARIANTS",
    "build_hps_model",
    "build_model",
    "build_smtl_model",
    "build_stl_models",
    "compile_model",
    "export_for_serving",
    "format_report",
    "gate_values",
    "layers",
    "load_dataset",
    "prune_lite",
    "register_architecture",
    "run_comparison",
    "set_gate_values",
    "summarize",
]
