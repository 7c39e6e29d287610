"""Gate layers of SMTL: `Gate` (soft) and `LiteGate` (hard)."""

from smtl_keras.layers.base_gate import BaseGate
from smtl_keras.layers.gate import GATE_MODES
from smtl_keras.layers.gate import Gate
from smtl_keras.layers.lite_gate import LiteGate

__all__ = ["BaseGate", "Gate", "LiteGate", "GATE_MODES"]
