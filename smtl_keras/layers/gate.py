import math

import keras
import numpy as np
from keras import ops

from smtl_keras.layers.base_gate import BaseGate
from smtl_keras.layers.base_gate import _check_fraction

GATE_MODES = ("softmax", "sigmoid")

# A logit this large saturates float32: sigmoid(40) rounds to exactly 1.0.
SATURATED_LOGIT = 40.0


def _logit(p):
    if p <= 0.0:
        return -SATURATED_LOGIT
    if p >= 1.0:
        return SATURATED_LOGIT
    return float(np.clip(math.log(p) - math.log1p(-p), -SATURATED_LOGIT, SATURATED_LOGIT))


@keras.saving.register_keras_serializable(package="smtl_keras")
class Gate(BaseGate):
    """Soft gate of SMTL: a learned, input-independent mix of two paths.

    The gate holds two parameters, both initialised to 0; times `logit_scale`
    they are the logits `[a_pub, a_priv]`. It returns
    `w_pub * public + w_priv * private` where

    - `mode="softmax"`: `(w_pub, w_priv) = softmax([a_pub, a_priv])`; the
      weights sum to 1 and start at 0.5 / 0.5 (the paper's SMTL).
    - `mode="sigmoid"`: `w_pub = sigmoid(a_pub)`, `w_priv = sigmoid(a_priv)`;
      each lies in [0, 1] on its own and they need not sum to 1.

    With `w = (0, 1)` the output is exactly the private path, so a task whose
    gate is fully private computes what its single-task model computes.

    Args:
        mode: `"softmax"` or `"sigmoid"`.
        logit_scale: Positive float; the logits are `logit_scale` times the
            stored parameters, so under Adam the gate learns `logit_scale`
            times faster than with 1.0.
        path_dropout: Probability in [0, 1] that a training example goes
            through one path only (public or private, equally likely) instead
            of the mix; see `BaseGate`. 0 is the paper's SMTL.
        seed: Optional int seeding the path-dropout draws.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        public: Tensor from the shared (public) path.
        private: Tensor from the task's private path, same shape as `public`.

    Returns:
        A tensor with the shape of `public`.

    Example:

    >>> gate = Gate(mode="softmax")
    >>> out = gate(public=np.zeros((2, 3)), private=np.ones((2, 3)))
    >>> float(gate.private_weight)
    0.5
    """

    def __init__(self, mode="softmax", logit_scale=1.0, path_dropout=0.0, seed=None, **kwargs):
        super().__init__(logit_scale=logit_scale, path_dropout=path_dropout, seed=seed, **kwargs)
        if mode not in GATE_MODES:
            raise ValueError(
                f"Unknown gate mode. Accepted: {', '.join(GATE_MODES)}. "
                f"Received: mode={mode!r}"
            )
        self.mode = mode

    def build_gate(self):
        self.logits = self.add_weight(
            shape=(2,), initializer="zeros", name="logits"
        )

    def path_weights(self, training=False):
        logits = self.logits * self.logit_scale
        if self.mode == "softmax":
            weights = ops.softmax(logits)
        else:
            weights = ops.sigmoid(logits)
        return weights[0], weights[1]

    @property
    def private_weight(self):
        return float(ops.convert_to_numpy(self.path_weights()[1]))

    @property
    def public_weight(self):
        return float(ops.convert_to_numpy(self.path_weights()[0]))

    def assign_private_weight(self, value):
        """Sets the logits so that the private weight is `value` in [0, 1].

        With `mode="softmax"` the public weight becomes `1 - value`; with
        `mode="sigmoid"` it is set to `1 - value` as well. 0 and 1 saturate.
        """
        value = _check_fraction(self, value)
        if self.mode == "softmax":
            logits = [0.0, _logit(value)]
        else:
            logits = [_logit(1.0 - value), _logit(value)]
        self.logits.assign(np.asarray(logits, dtype="float32") / self.logit_scale)

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode})
        return config
