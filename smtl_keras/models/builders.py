"""Functional builders: SMTL and its variants, hard sharing, single-task."""

import keras

from smtl_keras.layers import GATE_MODES
from smtl_keras.layers import Gate
from smtl_keras.layers import LiteGate
from smtl_keras.layers.base_gate import check_path_dropout
from smtl_keras.layers.base_gate import check_positive
from smtl_keras.layers.base_gate import check_seed
from smtl_keras.models.blocks import BlockMaker
from smtl_keras.models.blocks import output_layer
from smtl_keras.models.blocks import single_tensor
from smtl_keras.models.compiling import check_task_dict
from smtl_keras.models.compiling import check_tasks
from smtl_keras.models.compiling import compile_model
from smtl_keras.models.compiling import fresh_optimizer
from smtl_keras.models.names import PUBLIC_ENCODER
from smtl_keras.models.names import gate_name
from smtl_keras.models.names import head_name
from smtl_keras.models.names import private_encoder_name
from smtl_keras.models.names import stl_encoder_name
from smtl_keras.models.smtl_model import SMTLModel
from smtl_keras.models.smtl_model import check_path_loss

VARIANTS = ("smtl", "lite", "smtl_decoder", "lite_decoder")

# Measured with benchmarks/safety.py (see BENCHMARKS.md): the soft variants do
# best when half the examples train the mix, the lite variants when every
# example trains one path alone.
DEFAULT_PATH_DROPOUT = {"smtl": 0.5, "smtl_decoder": 0.5, "lite": 1.0, "lite_decoder": 1.0}

def _check_inputs(inputs):
    tensors = list(inputs.values()) if isinstance(inputs, dict) else [inputs]
    if not tensors or not all(isinstance(t, keras.KerasTensor) for t in tensors):
        raise ValueError(
            "inputs must be a keras.Input or a dict of keras.Input. "
            f"Received: inputs={inputs!r}"
        )
    if isinstance(inputs, dict):
        for key, tensor in inputs.items():
            if key != tensor.name:
                raise ValueError(
                    "The keys of a dict of inputs must be the names of their "
                    "keras.Input (they name the inputs of the exported serving "
                    f"signature). Received: key {key!r} for an input named "
                    f"{tensor.name!r}; use keras.Input(..., name={key!r})"
                )


def _check_slot_names(tasks, slot_names):
    """Task names must not collide with the names of other layers."""
    task_names = {task.name for task in tasks}
    clashes = sorted(task_names & set(slot_names))
    if clashes:
        raise ValueError(
            f"Task names {clashes} clash with layer names the model needs "
            f"({sorted(set(slot_names))}); rename the tasks."
        )


def _check_same_shape(public, private, what, task_name):
    if tuple(public.shape[1:]) != tuple(private.shape[1:]):
        raise ValueError(
            f"The public and private {what}s of task '{task_name}' must have "
            "the same output shape for the gate to mix them. Received: "
            f"public shape {tuple(public.shape)}, private shape {tuple(private.shape)}"
        )


def _prepare(inputs, tasks, loss, loss_weights, metrics):
    _check_inputs(inputs)
    tasks = check_tasks(tasks)
    for argument, value in (("loss", loss), ("loss_weights", loss_weights), ("metrics", metrics)):
        check_task_dict(argument, value, tasks)
    return tasks


def _finish(model, tasks, optimizer, loss, loss_weights, metrics, jit_compile):
    if optimizer is None:
        return model
    return compile_model(
        model,
        tasks,
        optimizer,
        loss=loss,
        loss_weights=loss_weights,
        metrics=metrics,
        jit_compile=jit_compile,
    )


def build_smtl_model(
    inputs,
    encoder,
    tasks,
    *,
    variant="smtl",
    gate="softmax",
    temperature=0.1,
    logit_scale=1.0,
    path_dropout=None,
    path_loss=0.0,
    private_encoder=None,
    seed=None,
    optimizer="adam",
    loss=None,
    loss_weights=None,
    metrics=None,
    jit_compile="auto",
    name=None,
):
    """Builds a Safe Multi-Task Learning model.

    One public encoder is shared by all tasks; every task has a private
    encoder of the same design, a gate and a decoder (head):

    - `variant="smtl"`: soft gates after the encoders,
      `y_t = D_t(w_pub E_pub(x) + w_priv E_t(x))`.
    - `variant="lite"` (L-SMTL): hard gates after the encoders; each task
      uses one encoder, so `prune_lite` can drop the others for inference.
    - `variant="smtl_decoder"`: soft gates after the decoders; every task has
      a public and a private decoder,
      `y_t = w_pub D_pub,t(E_pub(x)) + w_priv D_priv,t(E_t(x))`.
    - `variant="lite_decoder"`: hard gates after the decoders.

    Layer names: `public_encoder`, `<task>_private_encoder`, `<task>_gate`,
    `<task>_head` (or `<task>_public_head` and `<task>_private_head`), and the
    output layer `<task>`.

    Args:
        inputs: A `keras.Input`, or a dict of them. Their names become the
            input names of the exported serving signature.
        encoder: A callable `f(name)` returning a fresh Keras layer or model,
            or a Keras layer or model used as a template and cloned with fresh
            weights for every slot. Called on `inputs`.
        tasks: List of `smtl_keras.Task`.
        variant: One of `"smtl"`, `"lite"`, `"smtl_decoder"`, `"lite_decoder"`.
        gate: `"softmax"` (weights sum to 1) or `"sigmoid"`, for the soft
            variants. The lite variants always use `LiteGate`.
        temperature: Gumbel-softmax temperature of the lite variants.
        logit_scale: Positive float; every gate's logits are this times its
            parameters, so under Adam the gates learn this many times faster
            than the other weights (see `smtl_keras.layers.Gate`).
        path_dropout: Probability in [0, 1] that a training example goes
            through one path only (public or private) instead of the gate's
            mix, so that each path also works on its own (see
            `smtl_keras.layers.Gate`); what `SafeSharing` needs to find a
            safe route per task. Defaults to `DEFAULT_PATH_DROPOUT[variant]`:
            0.5 for the soft variants (half the examples still train the
            learned mix), 1.0 for the lite ones (whose hard choice needs two
            fully trained paths). 0 is the paper's training.
        path_loss: Non-negative weight of every path's own loss: training
            adds `path_loss` times each task's loss on its public path alone
            and on its private path alone (see `SMTLModel`). 0, the default,
            trains on the gate outputs only; BENCHMARKS.md measures 1.0.
        private_encoder: Optional design of the private encoders (same forms
            as `encoder`); defaults to `encoder`. Its output shape must equal
            the public encoder's.
        seed: Optional int seeding the random draws of the gates (task `i`
            uses `seed + i`). Weight initialisation follows Keras's global
            seed (`keras.utils.set_random_seed`).
        optimizer: Optimizer for `model.compile`; `None` returns the model
            uncompiled.
        loss, loss_weights, metrics: Optional dicts keyed by task name that
            override the tasks' own settings.
        jit_compile: Passed to `model.compile`.
        name: Model name; defaults to `variant`.

    Returns:
        An `SMTLModel` (a functional `keras.Model`) whose outputs are a dict
        keyed by task name, compiled with per-task losses, loss weights and
        metrics unless `optimizer=None`.

    Example:

    ```python
    inputs = keras.Input((16,), name="features")
    encoder = lambda name: keras.Sequential(
        [keras.layers.Dense(32, activation="relu")], name=name)
    tasks = [
        smtl_keras.Task("a", head=lambda n: keras.layers.Dense(1, name=n), loss="mse"),
        smtl_keras.Task("b", head=lambda n: keras.layers.Dense(1, name=n), loss="mse"),
    ]
    model = smtl_keras.build_smtl_model(inputs, encoder, tasks)
    model.fit(x, {"a": y_a, "b": y_b}, epochs=5)
    smtl_keras.gate_values(model)  # {"a": 0.52, "b": 0.47}
    ```
    """
    if variant not in VARIANTS:
        raise ValueError(
            f"Unknown variant. Accepted: {', '.join(VARIANTS)}. Received: variant={variant!r}"
        )
    if gate not in GATE_MODES:
        raise ValueError(
            f"Unknown gate. Accepted: {', '.join(GATE_MODES)}. Received: gate={gate!r}"
        )
    if not (isinstance(temperature, (int, float)) and temperature > 0):
        raise ValueError(
            f"temperature must be a positive number. Received: temperature={temperature!r}"
        )
    # The gate layers check these too; checking here fails before any block is built.
    check_seed(seed)
    check_positive("logit_scale", logit_scale)
    if path_dropout is None:
        path_dropout = DEFAULT_PATH_DROPOUT[variant]
    check_path_dropout(path_dropout)
    check_path_loss(path_loss)
    tasks = _prepare(inputs, tasks, loss, loss_weights, metrics)
    lite = variant.startswith("lite")
    after_decoders = variant.endswith("_decoder")
    slots = [PUBLIC_ENCODER]
    for task in tasks:
        slots += [private_encoder_name(task.name), gate_name(task.name)]
        if after_decoders:
            slots += [head_name(task.name, "public"), head_name(task.name, "private")]
        else:
            slots.append(head_name(task.name))
    _check_slot_names(tasks, slots)

    make = BlockMaker()
    public_features = single_tensor(
        make(encoder, PUBLIC_ENCODER, "encoder")(inputs), "encoder"
    )
    outputs = {}
    for index, task in enumerate(tasks):
        private_features = single_tensor(
            make(private_encoder or encoder, private_encoder_name(task.name), "encoder")(inputs),
            "encoder",
        )
        _check_same_shape(public_features, private_features, "encoder", task.name)
        gate_options = dict(
            logit_scale=logit_scale,
            path_dropout=path_dropout,
            seed=None if seed is None else seed + index,
            name=gate_name(task.name),
        )
        if lite:
            gate_layer = LiteGate(temperature=temperature, **gate_options)
        else:
            gate_layer = Gate(mode=gate, **gate_options)
        if after_decoders:
            public_out = make(task.head, head_name(task.name, "public"), "head")(public_features)
            private_out = make(task.head, head_name(task.name, "private"), "head")(private_features)
            public_out = single_tensor(public_out, "head")
            private_out = single_tensor(private_out, "head")
            _check_same_shape(public_out, private_out, "decoder", task.name)
            prediction = gate_layer(public=public_out, private=private_out)
        else:
            mixed = gate_layer(public=public_features, private=private_features)
            prediction = single_tensor(
                make(task.head, head_name(task.name), "head")(mixed), "head"
            )
        outputs[task.name] = output_layer(task)(prediction)
    model = SMTLModel(inputs, outputs, name=name or variant, path_loss=path_loss)
    return _finish(model, tasks, optimizer, loss, loss_weights, metrics, jit_compile)


def build_hps_model(
    inputs,
    encoder,
    tasks,
    *,
    optimizer="adam",
    loss=None,
    loss_weights=None,
    metrics=None,
    jit_compile="auto",
    name=None,
):
    """Builds a hard parameter sharing (HPS) model: one shared encoder, one head per task.

    Takes the same `inputs`, `encoder`, `tasks` and compile arguments as
    `build_smtl_model`, so comparisons are like for like. The shared encoder
    is named `public_encoder` and the heads `<task>_head`, as in SMTL.

    Returns:
        A functional `keras.Model` whose outputs are a dict keyed by task name.
    """
    tasks = _prepare(inputs, tasks, loss, loss_weights, metrics)
    _check_slot_names(tasks, [PUBLIC_ENCODER] + [head_name(t.name) for t in tasks])
    make = BlockMaker()
    features = single_tensor(make(encoder, PUBLIC_ENCODER, "encoder")(inputs), "encoder")
    outputs = {}
    for task in tasks:
        prediction = single_tensor(make(task.head, head_name(task.name), "head")(features), "head")
        outputs[task.name] = output_layer(task)(prediction)
    model = keras.Model(inputs, outputs, name=name or "hps")
    return _finish(model, tasks, optimizer, loss, loss_weights, metrics, jit_compile)


def build_stl_models(
    inputs,
    encoder,
    tasks,
    *,
    private_encoder=None,
    optimizer="adam",
    loss=None,
    loss_weights=None,
    metrics=None,
    jit_compile="auto",
    name=None,
):
    """Builds single-task learning (STL) models: one encoder and one head per task.

    Takes the same arguments as `build_smtl_model`. Each model is the
    private path of SMTL on its own (encoder from `private_encoder` if given,
    else `encoder`), so an SMTL task whose gate is fully private computes
    exactly what its STL model computes.

    Returns:
        A dict `{task_name: keras.Model}`. Each model's outputs are a one-key
        dict `{task_name: prediction}`, so the same loss and metric dicts and
        the same targets work for every architecture. Each model has an
        optimizer of its own (a fresh copy of `optimizer`).
    """
    tasks = _prepare(inputs, tasks, loss, loss_weights, metrics)
    models = {}
    for task in tasks:
        _check_slot_names([task], [stl_encoder_name(task.name), head_name(task.name)])
        make = BlockMaker()
        features = single_tensor(
            make(private_encoder or encoder, stl_encoder_name(task.name), "encoder")(inputs),
            "encoder",
        )
        prediction = single_tensor(make(task.head, head_name(task.name), "head")(features), "head")
        outputs = {task.name: output_layer(task)(prediction)}
        model = keras.Model(inputs, outputs, name=f"{name or 'stl'}_{task.name}")
        models[task.name] = _finish(
            model,
            [task],
            None if optimizer is None else fresh_optimizer(optimizer),
            loss and {k: v for k, v in loss.items() if k == task.name},
            loss_weights and {k: v for k, v in loss_weights.items() if k == task.name},
            metrics and {k: v for k, v in metrics.items() if k == task.name},
            jit_compile,
        )
    return models
