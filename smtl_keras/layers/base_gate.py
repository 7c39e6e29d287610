import keras
from keras import ops


class BaseGate(keras.layers.Layer):
    """Mixes a public and a private tensor of the same shape with two weights.

    The output is `w_pub * public + w_priv * private`. The weights do not
    depend on the input: they are a function of the layer's own variables only.
    Subclasses implement `path_weights(training)`, which returns the pair
    `(w_pub, w_priv)` as scalar tensors, and `private_weight`, the number a
    user reads to know how much the task relies on its private path.
    """

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

    def call(self, public, private, training=None):
        w_pub, w_priv = self.path_weights(training=bool(training))
        w_pub = ops.cast(w_pub, public.dtype)
        w_priv = ops.cast(w_priv, private.dtype)
        return w_pub * public + w_priv * private

    def compute_output_shape(self, public_shape, private_shape):
        return public_shape


def _check_fraction(layer, value):
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"The private weight of {layer.__class__.__name__} '{layer.name}' "
            f"must lie in [0, 1]. Received: value={value}"
        )
    return value
