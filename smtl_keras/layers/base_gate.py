import keras
from keras import ops


def check_positive(name, value):
    """`value` as a float; a ValueError naming it unless it is a number > 0."""
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and value > 0):
        raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")
    return float(value)


def check_path_dropout(value):
    """`value` as a float; a ValueError unless it is a number in [0, 1]."""
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
        raise ValueError(f"path_dropout must lie in [0, 1]. Received: path_dropout={value!r}")
    return float(value)


def check_seed(seed):
    """`seed`; a ValueError unless it is None or an int."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed must be None or an int. Received: seed={seed!r}")
    return seed


class BaseGate(keras.layers.Layer):
    """Mixes a public and a private tensor of the same shape with two weights.

    The output is `w_pub * public + w_priv * private`. The weights do not
    depend on the input: they are a function of the layer's own variables only.
    Subclasses implement `path_weights(training)`, which returns the pair
    `(w_pub, w_priv)` as scalar tensors, and `private_weight`, the number a
    user reads to know how much the task relies on its private path.

    `logit_scale` multiplies the stored gate parameters to give the logits.
    Adam moves a parameter by about one learning rate per step whatever its
    gradient, so a scale of `s` lets the gate logits move `s` times faster
    than the other weights while staying in the one optimizer.

    `path_dropout` is a training-time regulariser: each example, with that
    probability, goes through only one of the two paths (public or private,
    equally likely) instead of the gate's mix. Both paths then also learn to
    predict on their own, so each stays a usable model: the public path a
    hard-sharing model, the private path a single-task model. Inference is
    unchanged.
    """

    def __init__(self, logit_scale=1.0, path_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.logit_scale = check_positive("logit_scale", logit_scale)
        self.path_dropout = check_path_dropout(path_dropout)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, public_shape, private_shape):
        if tuple(public_shape[1:]) != tuple(private_shape[1:]):
            raise ValueError(
                f"{self.__class__.__name__} '{self.name}' mixes a public and a "
                "private tensor, which must have the same shape. Received: "
                f"public_shape={tuple(public_shape)}, "
                f"private_shape={tuple(private_shape)}"
            )
        self.build_gate()

    def build_gate(self):
        raise NotImplementedError

    def path_weights(self, training=False):
        raise NotImplementedError

    @property
    def private_weight(self):
        raise NotImplementedError

    def assign_private_weight(self, value):
        raise NotImplementedError

    def get_config(self):
        config = super().get_config()
        config.update(
            {"logit_scale": self.logit_scale, "path_dropout": self.path_dropout, "seed": self.seed}
        )
        return config

    def _example_weights(self, w_pub, w_priv, like):
        """Per-example weights when some examples take one path only."""
        rate = self.path_dropout
        shape = (ops.shape(like)[0],) + (1,) * (len(like.shape) - 1)
        draw = keras.random.uniform(shape, seed=self.seed_generator)
        public_only = ops.cast(draw < rate / 2, w_pub.dtype)
        private_only = ops.cast(ops.logical_and(draw >= rate / 2, draw < rate), w_pub.dtype)
        mixed = 1.0 - public_only - private_only
        return public_only + mixed * w_pub, private_only + mixed * w_priv

    def call(self, public, private, training=None):
        training = bool(training)
        w_pub, w_priv = self.path_weights(training=training)
        if training and self.path_dropout > 0:
            w_pub, w_priv = self._example_weights(w_pub, w_priv, public)
        w_pub = ops.cast(w_pub, public.dtype)
        w_priv = ops.cast(w_priv, private.dtype)
        return w_pub * public + w_priv * private

    def compute_output_shape(self, public_shape, private_shape):
        return public_shape

    # The state of the random draws is saved with the weights, so that
    # training resumed from a checkpoint draws what the uninterrupted run would.
    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["seed_state"] = self.seed_generator.state

    def load_own_variables(self, store):
        if "seed_state" in store.keys():
            self.seed_generator.state.assign(store["seed_state"])
        own = {key: store[key] for key in store.keys() if key != "seed_state"}
        super().load_own_variables(own)


def _check_fraction(layer, value):
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"The private weight of {layer.__class__.__name__} '{layer.name}' "
            f"must lie in [0, 1]. Received: value={value}"
        )
    return value
