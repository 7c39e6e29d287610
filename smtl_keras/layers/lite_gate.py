import keras
import numpy as np
from keras import ops

from smtl_keras.layers.base_gate import BaseGate
from smtl_keras.layers.base_gate import _check_fraction
from smtl_keras.layers.gate import _logit


@keras.saving.register_keras_serializable(package="smtl_keras")
class LiteGate(BaseGate):
    """Hard gate of L-SMTL: picks either the public or the private path.

    The gate holds one logit `a`, initialised to 0; `p = sigmoid(a)` is the
    probability of the private path.

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

    def __init__(self, temperature=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(temperature, bool) or not (
            isinstance(temperature, (int, float)) and temperature > 0
        ):
            raise ValueError(
                "temperature must be a positive number. "
                f"Received: temperature={temperature!r}"
            )
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"seed must be None or an int. Received: seed={seed!r}")
        self.temperature = float(temperature)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build_gate(self):
        self.logit = self.add_weight(shape=(), initializer="zeros", name="logit")

    def path_weights(self, training=False):
        if not training:
            choice = ops.cast(self.logit >= 0.0, self.logit.dtype)
            return 1.0 - choice, choice
        # log(1 - p) and log(p) in a numerically stable form.
        log_probs = ops.stack(
            [ops.log_sigmoid(-self.logit), ops.log_sigmoid(self.logit)]
        )
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
        return float(ops.convert_to_numpy(ops.sigmoid(self.logit)))

    @property
    def uses_private_path(self):
        """The inference choice: True when p >= 0.5."""
        return bool(ops.convert_to_numpy(self.logit) >= 0.0)

    def assign_private_weight(self, value):
        """Sets the logit so that the private probability p is `value`."""
        value = _check_fraction(self, value)
        self.logit.assign(np.asarray(_logit(value), dtype="float32"))

    # The state of the draws is saved with the weights, so that training
    # resumed from a checkpoint draws what the uninterrupted run would have.
    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["seed_state"] = self.seed_generator.state

    def load_own_variables(self, store):
        if "seed_state" in store.keys():
            self.seed_generator.state.assign(store["seed_state"])
        own = {key: store[key] for key in store.keys() if key != "seed_state"}
        super().load_own_variables(own)

    def get_config(self):
        config = super().get_config()
        config.update({"temperature": self.temperature, "seed": self.seed})
        return config
