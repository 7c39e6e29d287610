"""Training helpers: callbacks and the safety report."""

from smtl_keras.training.callbacks import GateLogger
