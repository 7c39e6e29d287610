import keras
import numpy as np
import pytest
from testing_utils import IMAGE_SHAPE
from testing_utils import all_layers
from testing_utils import as_model_dict
from testing_utils import build
from testing_utils import classification_task
from testing_utils import conv_encoder
from testing_utils import dense_encoder
from testing_utils import dense_head
from testing_utils import features
from testing_utils import make_tasks
from testing_utils import output_width
from testing_utils import regression_task

import smtl_keras
from smtl_keras.layers import Gate
from smtl_keras.layers import LiteGate

ENCODERS = {
    "dense": (dense_encoder, (6,)),
    "conv": (conv_encoder, IMAGE_SHAPE),
}


def test_registry_holds_the_baselines_and_all_variants():
    assert set(smtl_keras.ARCHITECTURES) >= {
        "stl", "hps", "smtl", "lite", "smtl_decoder", "lite_decoder"
    }
    for variant in smtl_keras.VARIANTS:
        assert variant in smtl_keras.ARCHITECTURES


@pytest.mark.parametrize("architecture", sorted(smtl_keras.ARCHITECTURES))
@pytest.mark.parametrize("count", [1, 2, 5])
@pytest.mark.parametrize("encoder_kind", sorted(ENCODERS))
def test_every_architecture_builds_with_outputs_keyed_by_task(architecture, count, encoder_kind):
    make_encoder, shape = ENCODERS[encoder_kind]
    tasks = make_tasks(count)
    inputs = keras.Input(shape, name="x")
    built = smtl_keras.build_model(architecture, inputs, make_encoder(), tasks)
    spec = smtl_keras.ARCHITECTURES[architecture]
    models = as_model_dict(built)
    if spec.per_task:
        assert list(models) == [t.name for t in tasks]
    x = features(3, shape=shape)
    covered = []
    for model in models.values():
        assert isinstance(model.output, dict)
        prediction = model.predict(x, verbose=0)
        assert list(prediction) == list(model.output)
        for name, value in prediction.items():
            task = next(t for t in tasks if t.name == name)
            assert value.shape == (3, output_width(task))
            assert model.get_layer(name).name == name
        covered += list(prediction)
        assert model.compiled
    assert covered == [t.name for t in tasks]
    gates = [
        layer for model in models.values() for layer in model.layers
        if isinstance(layer, (Gate, LiteGate))
    ]
    assert len(gates) == (count if spec.gated else 0)
    assert all(isinstance(g, LiteGate) == spec.lite for g in gates)


def test_parameter_counts_follow_the_design():
    tasks = make_tasks(2)
    encoder_params = 6 * 8 + 8  # one dense encoder
    heads = (8 * 1 + 1) + (8 * 3 + 3)
    counts = {
        name: sum(m.count_params() for m in as_model_dict(build(name, tasks)).values())
        for name in smtl_keras.ARCHITECTURES
    }
    assert counts["stl"] == 2 * encoder_params + heads
    assert counts["hps"] == encoder_params + heads
    assert counts["smtl"] == 3 * encoder_params + heads + 2 * 2
    assert counts["lite"] == 3 * encoder_params + heads + 2 * 1
    assert counts["smtl_decoder"] == 3 * encoder_params + 2 * heads + 2 * 2
    assert counts["lite_decoder"] == 3 * encoder_params + 2 * heads + 2 * 1


def test_template_encoder_and_head_are_cloned_with_fresh_weights():
    template = keras.Sequential([keras.layers.Dense(8, activation="relu")], name="template")
    template.build((None, 6))
    head = keras.layers.Dense(1)
    task = smtl_keras.Task("a", head=head, loss="mse")
    model = smtl_keras.build_smtl_model(
        keras.Input((6,), name="features"), template, [task, regression_task("b")]
    )
    public = model.get_layer("public_encoder")
    private = model.get_layer("a_private_encoder")
    assert public is not template and private is not template
    assert not np.allclose(public.get_weights()[0], private.get_weights()[0])
    assert not np.allclose(public.get_weights()[0], template.get_weights()[0])
    assert model.get_layer("a_head") is not head
    assert model.get_layer("a_head").get_config()["units"] == 1


def test_factory_names_every_slot():
    model = build("smtl_decoder", make_tasks(2))
    names = {layer.name for layer in model.layers}
    assert {
        "features", "public_encoder", "t0_private_encoder", "t1_private_encoder",
        "t0_gate", "t1_gate", "t0_public_head", "t0_private_head",
        "t1_public_head", "t1_private_head", "t0", "t1",
    } == names


def test_dict_inputs():
    inputs = {
        "a": keras.Input((3,), name="a"),
        "b": keras.Input((2,), name="b"),
    }

    def encoder(name):
        x = {k: keras.Input(v.shape[1:], name=k) for k, v in inputs.items()}
        merged = keras.layers.Concatenate()([x["a"], x["b"]])
        return keras.Model(x, keras.layers.Dense(4)(merged), name=name)

    model = smtl_keras.build_smtl_model(inputs, encoder, make_tasks(2))
    out = model.predict({"a": np.ones((2, 3)), "b": np.ones((2, 2))}, verbose=0)
    assert out["t0"].shape == (2, 1) and out["t1"].shape == (2, 3)


def test_output_activation_is_applied_after_the_gate():
    unit = smtl_keras.Task("normal", head=dense_head(3), loss="cosine_similarity",
                           output_activation="unit_norm", higher_is_better=False)
    probs = smtl_keras.Task("digit", head=dense_head(4), loss="sparse_categorical_crossentropy",
                            output_activation="softmax", metrics=["accuracy"])
    model = build("smtl_decoder", [unit, probs])
    out = model.predict(features(5), verbose=0)
    np.testing.assert_allclose(np.linalg.norm(out["normal"], axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out["digit"].sum(-1), 1.0, atol=1e-5)
    # The gate mixes the decoders' logits; the activation comes after it.
    layer_order = [layer.name for layer in model.layers]
    assert layer_order.index("normal_gate") < layer_order.index("normal")
    assert isinstance(model.get_layer("digit"), keras.layers.Activation)


def test_uncompiled_when_optimizer_is_none():
    model = build("smtl", make_tasks(2), optimizer=None)
    assert not model.compiled


def test_no_lambda_layers():
    for name in smtl_keras.ARCHITECTURES:
        for model in as_model_dict(build(name, make_tasks(2))).values():
            assert not any(isinstance(l, keras.layers.Lambda) for l in all_layers(model))


# --- Bad input: a ValueError at build time naming the value and what is accepted.


def _inputs():
    return keras.Input((6,), name="features")


@pytest.mark.parametrize("architecture", sorted(smtl_keras.ARCHITECTURES))
def test_no_tasks(architecture):
    with pytest.raises(ValueError, match=r"non-empty list of smtl_keras.Task. Received: tasks=\[\]"):
        smtl_keras.build_model(architecture, _inputs(), dense_encoder(), [])


@pytest.mark.parametrize("architecture", sorted(smtl_keras.ARCHITECTURES))
def test_duplicate_task_names(architecture):
    tasks = [regression_task("a"), classification_task("a")]
    with pytest.raises(ValueError, match=r"unique. Received duplicates: \['a'\]"):
        smtl_keras.build_model(architecture, _inputs(), dense_encoder(), tasks)


@pytest.mark.parametrize("name", ["", "has space", "slash/name", "1st", "dash-name", "class", 3])
def test_task_name_that_cannot_be_an_output_key(name):
    with pytest.raises(ValueError, match=r"letters, digits and underscores.*Received: name="):
        regression_task(name)


def test_task_name_clashing_with_a_layer_name():
    with pytest.raises(ValueError, match=r"\['public_encoder'\] clash with layer names"):
        build("smtl", [regression_task("public_encoder"), regression_task("b")])
    with pytest.raises(ValueError, match=r"\['a_gate'\] clash"):
        build("smtl", [regression_task("a"), regression_task("a_gate")])


def test_unknown_variant_and_gate():
    with pytest.raises(ValueError, match=r"Accepted: smtl, lite, smtl_decoder, lite_decoder. Received: variant='soft'"):
        smtl_keras.build_smtl_model(_inputs(), dense_encoder(), make_tasks(2), variant="soft")
    with pytest.raises(ValueError, match=r"Accepted: softmax, sigmoid. Received: gate='relu'"):
        smtl_keras.build_smtl_model(_inputs(), dense_encoder(), make_tasks(2), gate="relu")
    with pytest.raises(ValueError, match=r"Unknown architecture. Accepted: stl, hps, smtl.*Received: 'mmoe'"):
        smtl_keras.build_model("mmoe", _inputs(), dense_encoder(), make_tasks(2))


def test_bad_temperature_and_seed():
    with pytest.raises(ValueError, match=r"temperature must be a positive number. Received: temperature=0"):
        smtl_keras.build_smtl_model(_inputs(), dense_encoder(), make_tasks(2), variant="lite", temperature=0)
    with pytest.raises(ValueError, match=r"seed must be None or an int. Received: seed=1.5"):
        smtl_keras.build_smtl_model(_inputs(), dense_encoder(), make_tasks(2), variant="lite", seed=1.5)


@pytest.mark.parametrize("variant", smtl_keras.VARIANTS)
def test_public_and_private_encoders_with_different_shapes(variant):
    with pytest.raises(ValueError, match=r"same output shape.*public shape \(None, 8\), private shape \(None, 5\)"):
        smtl_keras.build_smtl_model(
            _inputs(), dense_encoder(8), make_tasks(2), variant=variant,
            private_encoder=dense_encoder(5),
        )


def test_private_encoder_of_another_design_but_same_shape():
    def wide(name):
        return keras.Sequential(
            [keras.layers.Dense(32, activation="relu"), keras.layers.Dense(8)], name=name
        )

    model = smtl_keras.build_smtl_model(_inputs(), dense_encoder(8), make_tasks(2), private_encoder=wide)
    assert len(model.get_layer("t0_private_encoder").layers) == 2
    stl = smtl_keras.build_stl_models(_inputs(), dense_encoder(8), make_tasks(2), private_encoder=wide)
    assert len(stl["t0"].get_layer("t0_encoder").layers) == 2


def test_decoder_outputs_with_different_shapes():
    calls = []

    def head(name):
        calls.append(name)
        return keras.layers.Dense(2 if "public" in name else 3, name=name)

    task = smtl_keras.Task("a", head=head, loss="mse")
    with pytest.raises(ValueError, match=r"public and private decoders of task 'a'.*\(None, 2\).*\(None, 3\)"):
        smtl_keras.build_smtl_model(_inputs(), dense_encoder(), [task], variant="smtl_decoder")


@pytest.mark.parametrize("argument", ["loss", "loss_weights", "metrics"])
@pytest.mark.parametrize("architecture", ["stl", "hps", "smtl"])
def test_compile_dicts_keyed_by_unknown_names(argument, architecture):
    value = {"t0": "mse", "nope": "mse"} if argument != "loss_weights" else {"nope": 1.0}
    with pytest.raises(ValueError, match=rf"{argument} has keys that are not task names: \['nope'\]. Accepted keys: \['t0', 't1'\]"):
        smtl_keras.build_model(architecture, _inputs(), dense_encoder(), make_tasks(2), **{argument: value})
    with pytest.raises(ValueError, match=rf"{argument} must be a dict keyed by task name"):
        smtl_keras.build_model(architecture, _inputs(), dense_encoder(), make_tasks(2), **{argument: ["mse"]})


def test_factory_returning_the_same_layer_twice():
    shared = keras.layers.Dense(8)
    with pytest.raises(ValueError, match=r"same layer object for slots 'public_encoder' and 't0_private_encoder'"):
        build("smtl", make_tasks(2), encoder=lambda name: shared)


def test_factory_returning_something_else():
    with pytest.raises(ValueError, match=r"encoder factory must return a Keras layer or model"):
        build("hps", make_tasks(2), encoder=lambda name: "dense")


def test_dict_input_keys_must_be_input_names():
    with pytest.raises(ValueError, match=r"Received: key 'a' for an input named 'a_in'"):
        smtl_keras.build_hps_model({"a": keras.Input((3,), name="a_in")}, dense_encoder(), make_tasks(1))


def test_inputs_must_be_keras_inputs():
    with pytest.raises(ValueError, match=r"inputs must be a keras.Input"):
        smtl_keras.build_smtl_model(np.zeros((2, 6)), dense_encoder(), make_tasks(2))


def test_task_validation():
    with pytest.raises(ValueError, match=r"cannot tell whether a higher 'score' is better"):
        smtl_keras.Task("a", head=dense_head(1), loss="mse", metrics=[keras.metrics.Mean(name="score")])
    with pytest.raises(ValueError, match=r"safety_metric must be 'loss' or the name of one of its metrics \['mae'\]"):
        smtl_keras.Task("a", head=dense_head(1), loss="mse", metrics=["mae"], safety_metric="accuracy")
    with pytest.raises(ValueError, match=r"loss_weight must be a non-negative number. Received: loss_weight=-1.0"):
        smtl_keras.Task("a", head=dense_head(1), loss="mse", loss_weight=-1)
    with pytest.raises(ValueError, match=r"unknown output_activation.*Received: output_activation='nope'"):
        smtl_keras.Task("a", head=dense_head(1), loss="mse", output_activation="nope")
    with pytest.raises(ValueError, match=r"head must be a callable"):
        smtl_keras.Task("a", head=3, loss="mse")
    task = smtl_keras.Task("a", head=dense_head(1), loss="mse", metrics=["mae"])
    assert (task.safety_metric, task.higher_is_better) == ("mae", False)
    task = smtl_keras.Task("a", head=dense_head(1), loss="mse")
    assert (task.safety_metric, task.higher_is_better) == ("loss", False)
    task = classification_task("c")
    assert (task.safety_metric, task.higher_is_better) == ("accuracy", True)
