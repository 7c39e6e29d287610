"""Regression tasks with a controlled correlation (Ma et al., KDD 2018, MMoE)."""

import keras
import numpy as np

from smtl_keras.data.base import MultiTaskData
from smtl_keras.data.base import from_arrays
from smtl_keras.data.base import split_sizes
from smtl_keras.models.task import Task


def task_weight_vectors(num_tasks, correlation, dim, scale, rng):
    """`num_tasks` vectors of norm `scale` whose pairwise cosine is `correlation`.

    For two tasks this is the MMoE construction `w1 = c u1`,
    `w2 = c (rho u1 + sqrt(1 - rho^2) u2)` with orthonormal `u1, u2`. For more
    tasks the Gram matrix `(1 - rho) I + rho 11^T` is factored, which needs
    `rho >= -1 / (num_tasks - 1)`.
    """
    if num_tasks > dim:
        raise ValueError(f"num_tasks={num_tasks} must not exceed dim={dim}")
    lowest = -1.0 / (num_tasks - 1) if num_tasks > 1 else -1.0
    if not lowest <= correlation <= 1.0:
        raise ValueError(
            f"correlation must lie in [{lowest:.3g}, 1] for {num_tasks} tasks "
            f"(pairwise equal correlations). Received: correlation={correlation}"
        )
    basis, _ = np.linalg.qr(rng.normal(size=(dim, num_tasks)))
    gram = (1.0 - correlation) * np.eye(num_tasks) + correlation * np.ones((num_tasks, num_tasks))
    # Cholesky of a slightly lifted Gram matrix: exact for rho < 1, and for
    # rho = 1 (rank one) the rows agree to about 1e-6.
    mix = np.linalg.cholesky(gram + 1e-12 * np.eye(num_tasks))
    return scale * (mix @ basis.T)


def make_synthetic(
    num_tasks=2,
    correlation=0.5,
    num_examples=2000,
    dim=20,
    noise=0.1,
    num_sines=10,
    scale=1.0,
    seed=0,
):
    """Features and standardised targets of the controlled-correlation tasks.

    `y_t = w_t.x + sum_i sin(alpha_i w_t.x + beta_i) + noise`, with
    `x ~ N(0, I_dim)`, `cos(w_s, w_t) = correlation`, and `alpha_i, beta_i ~
    N(0, 1)` shared by all tasks. Each target is standardised to zero mean
    and unit variance. Identical output for the same arguments.

    Returns:
        `(x, {"y1": ..., "y2": ...})` with float32 arrays.
    """
    rng = np.random.default_rng(seed)
    weights = task_weight_vectors(num_tasks, correlation, dim, scale, rng)
    alpha = rng.normal(size=num_sines)
    beta = rng.normal(size=num_sines)
    x = rng.normal(size=(num_examples, dim))
    labels = {}
    for index, w in enumerate(weights):
        projection = x @ w
        y = projection + np.sin(np.outer(projection, alpha) + beta).sum(axis=1)
        y = y + noise * rng.normal(size=num_examples)
        y = (y - y.mean()) / y.std()
        labels[f"y{index + 1}"] = y.astype("float32")[:, None]
    return x.astype("float32"), labels


def mlp_encoder(units=(64, 32)):
    """A factory of dense ReLU encoders."""

    def make(name):
        return keras.Sequential(
            [keras.layers.Dense(u, activation="relu") for u in units], name=name
        )

    return make


def regression_head(name):
    return keras.Sequential(
        [keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)], name=name
    )


def load_synthetic(
    batch_size=64,
    seed=0,
    num_tasks=2,
    correlation=0.5,
    num_examples=2000,
    dim=20,
    noise=0.1,
    validation_fraction=0.25,
    test_fraction=0.25,
    poisoned_tasks=(),
    **unused,
):
    """The controlled-correlation regression tasks of the MMoE paper.

    Correlation 1.0 gives identical tasks (up to noise), 0.0 unrelated ones,
    negative values opposed ones: the standard dial for negative sharing.
    Tasks `y1, y2, ...`, each a standardised scalar with MSE loss and metric.

    Args:
        batch_size: Batch size of the splits.
        seed: Seeds the data (same seed, same data) and the shuffling.
        num_tasks: Number of tasks.
        correlation: Pairwise cosine of the tasks' weight vectors.
        num_examples: Examples over all splits.
        dim: Input dimension.
        noise: Standard deviation of the label noise.
        validation_fraction, test_fraction: Split fractions.
        poisoned_tasks: Names of tasks whose labels are replaced by pure
            standard-normal noise: a probe of whether a model lets a task
            with nothing to learn hurt the others.
    """
    sizes = split_sizes(num_examples, validation_fraction, test_fraction)
    x, labels = make_synthetic(
        num_tasks=num_tasks, correlation=correlation, num_examples=num_examples,
        dim=dim, noise=noise, seed=seed,
    )
    unknown = sorted(set(poisoned_tasks) - set(labels))
    if unknown:
        raise ValueError(f"Unknown poisoned tasks {unknown}. Tasks: {list(labels)}")
    noise_rng = np.random.default_rng([seed, 1])
    for name in poisoned_tasks:
        labels[name] = noise_rng.normal(size=labels[name].shape).astype("float32")
    tasks = [
        Task(name, head=regression_head, loss="mse", metrics=["mse"])
        for name in labels
    ]
    return MultiTaskData(
        "synthetic",
        tasks,
        mlp_encoder(),
        from_arrays(x, labels, sizes),
        sizes,
        batch_size=batch_size,
        seed=seed,
        input_name="features",
        description=(
            f"{num_tasks} regression tasks with pairwise correlation {correlation} "
            f"(MMoE synthetic, dim {dim}, noise {noise})"
            + (f"; labels of {', '.join(poisoned_tasks)} replaced by noise" if poisoned_tasks else "")
        ),
        metadata={
            "correlation": correlation, "num_tasks": num_tasks, "dim": dim, "noise": noise,
            "poisoned_tasks": list(poisoned_tasks),
        },
    )
