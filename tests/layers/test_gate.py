import keras
import numpy as np
import pytest

from testing_utils import numpy
from testing_utils import value_and_grad

from smtl_keras.layers import Gate


def _inputs():
    rng = np.random.default_rng(0)
    return (
        rng.normal(size=(4, 5)).astype("float32"),
        rng.normal(size=(4, 5)).astype("float32"),
    )


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_softmax_gate_starts_even_and_mixes_by_hand_computed_weights():
    public, private = _inputs()
    gate = Gate(mode="softmax")
    out = keras.ops.convert_to_numpy(gate(public=public, private=private))
    np.testing.assert_allclose(out, 0.5 * public + 0.5 * private, atol=1e-6)
    assert gate.private_weight == pytest.approx(0.5)
    assert gate.public_weight == pytest.approx(0.5)

    gate.logits.assign(np.array([1.0, 2.0], dtype="float32"))
    w_pub = np.exp(1.0) / (np.exp(1.0) + np.exp(2.0))
    w_priv = np.exp(2.0) / (np.exp(1.0) + np.exp(2.0))
    out = keras.ops.convert_to_numpy(gate(public=public, private=private))
    np.testing.assert_allclose(out, w_pub * public + w_priv * private, rtol=1e-6, atol=1e-6)
    assert gate.private_weight == pytest.approx(w_priv, rel=1e-6)
    assert gate.public_weight + gate.private_weight == pytest.approx(1.0, abs=1e-6)


def test_sigmoid_gate_weights_are_independent_and_in_unit_interval():
    public, private = _inputs()
    gate = Gate(mode="sigmoid")
    gate(public=public, private=private)
    for logits in ([1.0, -2.0], [30.0, 30.0], [-30.0, -30.0]):
        gate.logits.assign(np.array(logits, dtype="float32"))
        w_pub, w_priv = _sigmoid(np.array(logits))
        out = keras.ops.convert_to_numpy(gate(public=public, private=private))
        np.testing.assert_allclose(out, w_pub * public + w_priv * private, rtol=1e-5, atol=1e-6)
        assert 0.0 <= gate.public_weight <= 1.0
        assert 0.0 <= gate.private_weight <= 1.0
    # Both saturated high: the weights need not sum to 1.
    gate.logits.assign(np.array([30.0, 30.0], dtype="float32"))
    assert gate.public_weight + gate.private_weight == pytest.approx(2.0)


@pytest.mark.parametrize("mode", ["softmax", "sigmoid"])
@pytest.mark.parametrize("value", [0.0, 0.25, 0.9, 1.0])
def test_assign_private_weight(mode, value):
    public, private = _inputs()
    gate = Gate(mode=mode)
    gate(public=public, private=private)
    gate.assign_private_weight(value)
    assert gate.private_weight == pytest.approx(value, abs=1e-6)
    assert gate.public_weight == pytest.approx(1.0 - value, abs=1e-6)
    if value == 1.0:
        out = keras.ops.convert_to_numpy(gate(public=public, private=private))
        np.testing.assert_array_equal(out, private)


def test_gate_is_trainable_and_input_independent():
    gate = Gate()
    public, private = _inputs()
    gate(public=public, private=private)
    assert [w.shape for w in gate.trainable_weights] == [(2,)]
    # Same weights for a different batch: the gate does not look at the input.
    out = keras.ops.convert_to_numpy(gate(public=public[:1] * 0, private=private[:1] * 0))
    np.testing.assert_array_equal(out, np.zeros_like(out))


def test_gate_rejects_unknown_mode():
    with pytest.raises(ValueError, match=r"Accepted: softmax, sigmoid. Received: mode='tanh'"):
        Gate(mode="tanh")


def test_gate_rejects_different_shapes_at_build():
    public = keras.Input((4,))
    private = keras.Input((5,))
    with pytest.raises(ValueError, match=r"same shape.*public_shape=\(None, 4\).*private_shape=\(None, 5\)"):
        Gate()(public=public, private=private)


def test_assign_private_weight_rejects_out_of_range():
    gate = Gate()
    gate(public=np.zeros((1, 2)), private=np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"\[0, 1\]. Received: value=1.5"):
        gate.assign_private_weight(1.5)


@pytest.mark.parametrize("mode", ["softmax", "sigmoid"])
def test_gate_serialization_round_trip(mode, tmp_path):
    public = keras.Input((3,), name="public")
    private = keras.Input((3,), name="private")
    gate = Gate(mode=mode, name="g")
    model = keras.Model([public, private], gate(public=public, private=private))
    gate.logits.assign(np.array([0.3, -1.2], dtype="float32"))
    assert Gate.from_config(gate.get_config()).get_config() == gate.get_config()
    path = tmp_path / "gate.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.get_layer("g"), Gate)
    assert loaded.get_layer("g").mode == mode
    x = [np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")]
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_path_dropout_rate_and_gradient_only_through_mixed_examples():
    count = 4000
    public = np.zeros((count, 1), "float32")
    private = np.ones((count, 1), "float32")
    gate = Gate(path_dropout=0.4, seed=3)
    gate(public=public[:1], private=private[:1])
    gate.assign_private_weight(0.3)

    def loss():
        out = gate(public=public, private=private, training=True)
        return keras.ops.sum(out), out

    _, (grad,), out = value_and_grad(loss, [gate.logits])
    values = numpy(out)[:, 0]
    solo_public = np.isclose(values, 0.0)
    solo_private = np.isclose(values, 1.0)
    mixed = np.isclose(values, 0.3, atol=1e-5)
    assert np.all(solo_public | solo_private | mixed)
    assert abs(solo_public.mean() - 0.2) < 0.03 and abs(solo_private.mean() - 0.2) < 0.03
    # d(sum)/d(logits) comes from the mixed examples only: mixed * d(w_priv)/d(logits).
    w = 0.3
    expected = mixed.sum() * np.array([-w * (1 - w), w * (1 - w)])
    np.testing.assert_allclose(grad, expected, rtol=1e-4)
    inference = numpy(gate(public=public, private=private))
    np.testing.assert_allclose(inference, 0.3, atol=1e-6)


def test_logit_scale_speeds_up_the_gate_under_adam():
    def moved(scale):
        gate = Gate(logit_scale=scale)
        public, private = np.zeros((4, 2), "float32"), np.ones((4, 2), "float32")
        gate(public=public, private=private)
        optimizer = keras.optimizers.Adam(0.01)
        optimizer.build(gate.trainable_variables)

        def loss():
            out = gate(public=public, private=private, training=True)
            return keras.ops.mean((out - 1.0) ** 2), None

        for _ in range(20):
            _, grads, _ = value_and_grad(loss, gate.trainable_variables)
            optimizer.apply(grads, gate.trainable_variables)
        return gate.private_weight - 0.5

    slow, fast = moved(1.0), moved(10.0)
    assert 0 < slow < fast
    assert fast > 0.4  # about 10 times the logit movement: close to saturation
    gate = Gate(logit_scale=10.0)
    gate(public=np.zeros((1, 2)), private=np.zeros((1, 2)))
    gate.assign_private_weight(0.8)
    assert gate.private_weight == pytest.approx(0.8, abs=1e-6)
    assert Gate.from_config(gate.get_config()).logit_scale == 10.0


@pytest.mark.parametrize("kwargs, message", [
    ({"logit_scale": 0}, "logit_scale must be a positive number"),
    ({"path_dropout": 1.5}, r"path_dropout must lie in \[0, 1\]. Received: path_dropout=1.5"),
    ({"seed": "x"}, "seed must be None or an int"),
])
def test_gate_option_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Gate(**kwargs)
