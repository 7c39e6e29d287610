"""Training helpers: callbacks, resumable checkpoints and the safety report."""

from smtl_keras.training.callbacks import GateLogger
from smtl_keras.training.checkpoint import TrainingCheckpoint
from smtl_keras.training.safe import SafeSharing
from smtl_keras.training.safety import format_report
from smtl_keras.training.safety import summarize
from smtl_keras.training.compare import run_comparison
from smtl_keras.training.protocol import Protocol
