import keras
import numpy as np
import pytest
from testing_utils import value_and_grad

from smtl_keras.layers import LiteGate


def _inputs():
    rng = np.random.default_rng(0)
    return (
        rng.normal(size=(4, 5)).astype("float32"),
        rng.normal(size=(4, 5)).astype("float32"),
    )


def _choices(gate, draws):
    """1 where a training-mode draw picked the private path, else 0."""
    picks = []
    for _ in range(draws):
        w_pub, w_priv = gate.path_weights(training=True)
        w_pub, w_priv = float(w_pub), float(w_priv)
        assert (w_pub, w_priv) in ((0.0, 1.0), (1.0, 0.0))
        picks.append(int(w_priv))
    return picks


def test_training_forward_uses_exactly_one_path():
    public, private = _inputs()
    gate = LiteGate(seed=3)
    seen = set()
    for _ in range(20):
        out = keras.ops.convert_to_numpy(gate(public=public, private=private, training=True))
        if np.array_equal(out, private):
            seen.add("private")
        else:
            np.testing.assert_array_equal(out, public)
            seen.add("public")
    # At p = 0.5 both paths come up in 20 draws.
    assert seen == {"public", "private"}


def test_gate_logit_gets_a_nonzero_gradient():
    public, private = _inputs()
    gate = LiteGate(seed=0)
    gate(public=public, private=private)
    def loss():
        out = gate(public=public, private=private, training=True)
        return keras.ops.sum(out * (private - public)), None

    _, (grad,), _ = value_and_grad(loss, [gate.logit])
    assert grad is not None
    assert abs(float(grad)) > 0.0


def test_draws_are_reproducible_under_a_seed():
    gates = [LiteGate(seed=7), LiteGate(seed=7), LiteGate(seed=8)]
    for gate in gates:
        gate.build((None, 2), (None, 2))
    first, second, other = (_choices(gate, 40) for gate in gates)
    assert first == second
    assert first != other


def test_draw_frequency_follows_p():
    gate = LiteGate(seed=11)
    gate.build((None, 2), (None, 2))
    gate.assign_private_weight(0.8)
    assert gate.private_weight == pytest.approx(0.8, abs=1e-6)
    frequency = np.mean(_choices(gate, 400))
    # Binomial(400, 0.8) has a standard deviation of 0.02.
    assert 0.72 < frequency < 0.88


@pytest.mark.parametrize(
    "p, private", [(0.49, False), (0.5, True), (0.51, True), (0.0, False), (1.0, True)]
)
def test_inference_is_the_deterministic_threshold(p, private):
    public, private_x = _inputs()
    gate = LiteGate(seed=1)
    gate(public=public, private=private_x)
    gate.assign_private_weight(p)
    assert gate.uses_private_path is private
    for training in (None, False):
        for _ in range(3):
            out = keras.ops.convert_to_numpy(gate(public=public, private=private_x, training=training))
            np.testing.assert_array_equal(out, private_x if private else public)


def test_logit_starts_at_zero():
    gate = LiteGate()
    gate.build((None, 2), (None, 2))
    assert float(gate.logit) == 0.0
    assert gate.private_weight == 0.5
    assert [w.shape for w in gate.trainable_weights] == [()]


@pytest.mark.parametrize("temperature", [0, -1.0, None])
def test_rejects_non_positive_temperature(temperature):
    with pytest.raises(ValueError, match=rf"positive number. Received: temperature={temperature}"):
        LiteGate(temperature=temperature)


def test_rejects_non_int_seed():
    with pytest.raises(ValueError, match=r"seed must be None or an int. Received: seed='1'"):
        LiteGate(seed="1")


def test_serialization_round_trip(tmp_path):
    public = keras.Input((3,), name="public")
    private = keras.Input((3,), name="private")
    gate = LiteGate(temperature=0.5, seed=4, name="g")
    model = keras.Model([public, private], gate(public=public, private=private))
    gate.assign_private_weight(0.3)
    config = gate.get_config()
    assert config["temperature"] == 0.5 and config["seed"] == 4
    path = tmp_path / "lite.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    restored = loaded.get_layer("g")
    assert isinstance(restored, LiteGate)
    assert restored.private_weight == pytest.approx(0.3, abs=1e-6)
    x = [np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")]
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), x[0])


def test_draw_state_is_saved_with_the_weights(tmp_path):
    public = keras.Input((3,), name="public")
    private = keras.Input((3,), name="private")
    gate = LiteGate(seed=9, name="g")
    model = keras.Model([public, private], gate(public=public, private=private))
    _choices(gate, 5)
    model.save_weights(tmp_path / "w.weights.h5")
    expected = _choices(gate, 30)

    restored_gate = LiteGate(seed=9, name="g")
    restored = keras.Model([public, private], restored_gate(public=public, private=private))
    restored.load_weights(tmp_path / "w.weights.h5")
    assert _choices(restored_gate, 30) == expected
