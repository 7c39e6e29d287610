"""Safe Multi-Task Learning (SMTL) for Keras 3.

Public API: `Task`, the builders `build_smtl_model`, `build_hps_model` and
`build_stl_models` (and `build_model` over the `ARCHITECTURES` registry),
`compile_model`, `gate_values`, `set_gate_values`, `GateLogger`,
`prune_lite`, `export_for_serving`, `load_dataset`, `summarize` and
`format_report`, and the gate layers in `smtl_keras.layers`.

Names are imported on first use, so that `import smtl_keras` stays cheap and
command-line tools can quiet TensorFlow's start-up before it loads.
"""

import importlib

__version__ = "0.1.0"

_API = {
    "ARCHITECTURES": "smtl_keras.models",
    "Architecture": "smtl_keras.models",
    "Task": "smtl_keras.models",
    "VARIANTS": "smtl_keras.models",
    "build_hps_model": "smtl_keras.models",
    "build_model": "smtl_keras.models",
    "build_smtl_model": "smtl_keras.models",
    "build_stl_models": "smtl_keras.models",
    "compile_model": "smtl_keras.models",
    "gate_values": "smtl_keras.models",
    "prune_lite": "smtl_keras.models",
    "register_architecture": "smtl_keras.models",
    "set_gate_values": "smtl_keras.models",
    "GateLogger": "smtl_keras.training",
    "TrainingCheckpoint": "smtl_keras.training",
    "format_report": "smtl_keras.training",
    "summarize": "smtl_keras.training",
    "export_for_serving": "smtl_keras.export",
    "DATASETS": "smtl_keras.data",
    "MultiTaskData": "smtl_keras.data",
    "load_dataset": "smtl_keras.data",
}
_SUBMODULES = ("data", "export", "layers", "models", "training")

__all__ = sorted(list(_API) + list(_SUBMODULES))


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"smtl_keras.{name}")
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'smtl_keras' has no attribute {name!r}")


def __dir__():
    return __all__
