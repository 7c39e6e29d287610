import keras
import numpy as np
import pytest
from testing_utils import build
from testing_utils import features
from testing_utils import make_tasks

import smtl_keras
from smtl_keras.layers import LiteGate


@pytest.mark.parametrize("variant", ["lite", "lite_decoder"])
@pytest.mark.parametrize("choices", [(1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (0.2, 0.9, 0.5)])
def test_pruned_model_predicts_the_same_with_fewer_parameters(variant, choices, tmp_path):
    tasks = make_tasks(3)
    model = build(variant, tasks, seed=0)
    smtl_keras.set_gate_values(model, dict(zip([t.name for t in tasks], choices)))
    pruned = smtl_keras.prune_lite(model)
    x = features(20)
    expected = model.predict(x, verbose=0)
    got = pruned.predict(x, verbose=0)
    assert list(got) == list(expected)
    for name in expected:
        assert np.abs(got[name] - expected[name]).max() <= 1e-6

    names = {layer.name for layer in pruned.layers}
    assert not any(isinstance(layer, LiteGate) for layer in pruned.layers)
    private = [p >= 0.5 for p in choices]
    for task, uses_private in zip(tasks, private):
        assert (f"{task.name}_private_encoder" in names) == uses_private
    assert ("public_encoder" in names) == (not all(private))
    assert pruned.count_params() < model.count_params()
    encoder_params = 6 * 8 + 8
    unused = 3 + 1 - len([p for p in private if p]) - (0 if all(private) else 1)
    dropped = model.count_params() - pruned.count_params()
    assert dropped >= unused * encoder_params + 3  # the unused encoders and 3 gate logits

    # Independent copies: further training of the original leaves it alone.
    weights = [w.copy() for w in pruned.get_weights()]
    for layer in model.layers:
        for variable in layer.trainable_weights:
            variable.assign(variable + 1.0)
    for before, after in zip(weights, pruned.get_weights()):
        np.testing.assert_array_equal(before, after)

    if choices == (0.2, 0.9, 0.5):
        path = tmp_path / "pruned.keras"
        pruned.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        for name, value in loaded.predict(x, verbose=0).items():
            np.testing.assert_array_equal(value, got[name])


@pytest.mark.parametrize("architecture", ["smtl", "smtl_decoder", "hps"])
def test_prune_refuses_models_without_hard_gates(architecture):
    model = build(architecture, make_tasks(2))
    with pytest.raises(ValueError, match=r"prune_lite needs a lite model \(variant 'lite' or 'lite_decoder'\)"):
        smtl_keras.prune_lite(model)
