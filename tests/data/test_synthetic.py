import numpy as np
import pytest

from smtl_keras.data import load_synthetic
from smtl_keras.data import make_synthetic
from smtl_keras.data.synthetic import task_weight_vectors


@pytest.mark.parametrize("tasks, rho", [(2, 1.0), (2, 0.5), (2, 0.0), (2, -0.5), (2, -1.0), (4, 0.3), (4, -0.3), (5, 1.0)])
def test_weight_vectors_have_the_requested_correlation(tasks, rho):
    w = task_weight_vectors(tasks, rho, dim=20, scale=2.0, rng=np.random.default_rng(0))
    norms = np.linalg.norm(w, axis=1)
    np.testing.assert_allclose(norms, 2.0, rtol=1e-5)
    cosine = (w @ w.T) / np.outer(norms, norms)
    off_diagonal = cosine[~np.eye(tasks, dtype=bool)]
    np.testing.assert_allclose(off_diagonal, rho, atol=1e-5)


def test_two_tasks_follow_the_mmoe_construction():
    rng = np.random.default_rng(3)
    w = task_weight_vectors(2, 0.5, dim=10, scale=1.0, rng=rng)
    # w2 = rho * u1 + sqrt(1 - rho^2) * u2 with u1 = w1.
    residual = w[1] - 0.5 * w[0]
    assert abs(residual @ w[0]) < 1e-6
    assert np.linalg.norm(residual) == pytest.approx(np.sqrt(1 - 0.25), rel=1e-6)


def test_correlation_out_of_range():
    with pytest.raises(ValueError, match=r"correlation must lie in \[-0.333, 1\] for 4 tasks.*Received: correlation=-0.5"):
        task_weight_vectors(4, -0.5, dim=10, scale=1.0, rng=np.random.default_rng(0))


def test_same_seed_same_data_and_standardised_targets():
    x1, y1 = make_synthetic(num_tasks=3, correlation=0.2, num_examples=500, dim=8, seed=4)
    x2, y2 = make_synthetic(num_tasks=3, correlation=0.2, num_examples=500, dim=8, seed=4)
    x3, _ = make_synthetic(num_tasks=3, correlation=0.2, num_examples=500, dim=8, seed=5)
    np.testing.assert_array_equal(x1, x2)
    for name in y1:
        np.testing.assert_array_equal(y1[name], y2[name])
        assert y1[name].shape == (500, 1)
        assert abs(float(y1[name].mean())) < 1e-5 and float(y1[name].std()) == pytest.approx(1.0, rel=1e-4)
    assert not np.array_equal(x1, x3)
    assert list(y1) == ["y1", "y2", "y3"]


def test_identical_tasks_at_correlation_one_and_different_below():
    _, same = make_synthetic(correlation=1.0, noise=0.0, num_examples=300, dim=8)
    np.testing.assert_allclose(same["y1"], same["y2"], atol=1e-3)
    _, other = make_synthetic(correlation=0.0, noise=0.0, num_examples=300, dim=8)
    assert np.abs(np.corrcoef(other["y1"][:, 0], other["y2"][:, 0])[0, 1]) < 0.5


def test_bundle_splits_and_batches():
    data = load_synthetic(batch_size=32, num_examples=400, num_tasks=3)
    assert data.sizes == {"train": 200, "validation": 100, "test": 100}
    assert data.task_names == ["y1", "y2", "y3"]
    x, y = next(iter(data.train))
    assert x.shape == (32, 20) and set(y) == {"y1", "y2", "y3"} and y["y1"].shape == (32, 1)
    assert sum(int(x.shape[0]) for x, _ in data.test) == 100
    inputs = data.inputs()
    assert inputs.shape == (None, 20) and inputs.name == "features"
    assert all(t.safety_metric == "mse" and not t.higher_is_better for t in data.tasks)


def test_train_epochs_depend_on_seed_and_epoch_only():
    data = load_synthetic(batch_size=50, num_examples=400)
    assert data.steps_per_epoch == 4

    def firsts(stream):
        return [float(x[0, 0]) for x, _ in stream]

    full = firsts(data.train_epochs(0, 3, seed=1))
    resumed = firsts(data.train_epochs(1, 3, seed=1))
    assert len(full) == 12 and resumed == full[4:]
    assert full[:4] != full[4:8]  # reshuffled every epoch
    assert firsts(data.train_epochs(0, 3, seed=2)) != full
