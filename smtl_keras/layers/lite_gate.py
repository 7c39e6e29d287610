import keras
import numpy as np
from keras import ops

from smtl_keras.layers.base_gate import BaseGate
from smtl_keras.layers.base_gate import _check_fraction
from smtl_keras.layers.gate import _logit


@keras.saving.register_keras_serializable(package="smtl_keras")
class LiteGate(BaseGate):
    """Hard gate of L-SMTL: picks either the public or the private path.

    The gate holds one parameter, initialised to 0; times `logit_scale` it is
    the logit `a`, and `p = sigmoid(a)` is the probability of the private path.

    - Training (`training=True`): every call draws a hard one-hot choice by
      straight-through Gumbel-softmax over `log([1 - p, p])` at
      `temperature`. The forward pass uses exactly one path (weights exactly
      0 and 1); gradients reach `a` through the soft relaxation.
    - Inference: deterministic, private if `p >= 0.5`, else public.

    After training each task needs one path only, so `smtl_keras.prune_lite`
    can drop the unused encoders and the gates.

    Args:
        temperature: Positive float, the Gumbel-softmax temperature.
        seed: Optional int, seeds the draws so that training is reproducible.
        logit_scale: Positive float; the logit is `logit_scale` times the
            stored parameter, so under Adam the gate learns `logit_scale`
            times faster than with 1.0.
        path_dropout: Probability in [0, 1] that a training example goes
            through one path chosen uniformly instead of the gate's draw; see
            `BaseGate`. 0 is the paper's L-SMTL.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        public: Tensor from the shared (public) path.
        private: Tensor from the task's private path, same shape as `public`.
        training: Python bool; draws a path when True, thresholds otherwise.

    Returns:
        A tensor with the shape of `public`: one of the two inputs.

    Example:

    >>> gate = LiteGate(seed=0)
    >>> out = gate(public=np.zeros((2, 3)), private=np.ones((2, 3)))
    >>> float(gate.private_weight), gate.uses_private_path
    (0.5, True)
    """

    def __init__(self, temperature=0.1, seed=None, logit_scale=1.0, path_dropout=0.0, **kwargs):
        super().__init__(logit_scale=logit_scale, path_dropout=path_dropout, seed=seed, **kwargs)
        if isinstance(temperature, bool) or not (
            isinstance(temperature, (int, float)) and temperature > 0
        ):
            raise ValueError(
                "temperature must be a positive number. "
                f"Received: temperature={temperature!r}"
            )
        self.temperature = float(temperature)

    def build_gate(self):
        self.logit = self.add_weight(shape=(), initializer="zeros", name="logit")

    def path_weights(self, training=False):
        if not training:
            choice = ops.cast(self.logit >= 0.0, self.logit.dtype)
            return 1.0 - choice, choice
        logit = self.logit * self.logit_scale
        # log(1 - p) and log(p) in a numerically stable form.
        log_probs = ops.stack([ops.log_sigmoid(-logit), ops.log_sigmoid(logit)])
        uniform = keras.random.uniform(
            (2,), minval=1e-7, maxval=1.0, seed=self.seed_generator
        )
        gumbel = -ops.log(-ops.log(uniform))
        soft = ops.softmax((log_probs + gumbel) / self.temperature)
        hard = ops.one_hot(ops.argmax(soft), 2, dtype=soft.dtype)
        # Forward value is `hard` exactly; the gradient is that of `soft`.
        weights = hard + (soft - ops.stop_gradient(soft))
        return weights[0], weights[1]

    @property
    def private_weight(self):
        """The probability p of the private path."""
        return float(ops.convert_to_numpy(ops.sigmoid(self.logit * self.logit_scale)))

    @property
    def uses_private_path(self):
        """The inference choice: True when p >= 0.5."""
        return bool(ops.convert_to_numpy(self.logit) >= 0.0)

    def assign_private_weight(self, value):
        """Sets the logit so that the private probability p is `value`."""
        value = _check_fraction(self, value)
        self.logit.assign(np.asarray(_logit(value) / self.logit_scale, dtype="float32"))

    def get_config(self):
        config = super().get_config()
        config.update({"temperature": self.temperature})
        return config
