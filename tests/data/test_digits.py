import numpy as np
import pytest
import tensorflow as tf

from smtl_keras.data import load_digits
from smtl_keras.data.multidigit import check_canvas
from smtl_keras.data.multidigit import compose_pair


def test_compose_pair_places_left_and_right_digit():
    left = np.zeros((8, 8, 1), "float32")
    left[0, 0] = 1.0
    right = np.zeros((8, 8, 1), "float32")
    right[0, 0] = 0.5
    for index in range(10):
        image = compose_pair(tf.constant(left), tf.constant(right), (10, 16), 2, 6,
                             seed=tf.constant([0, index], tf.int64)).numpy()
        assert image.shape == (10, 16, 1)
        ones = np.argwhere(image[..., 0] == 1.0)
        halves = np.argwhere(image[..., 0] == 0.5)
        assert len(ones) == 1 and len(halves) == 1
        (r1, c1), (r2, c2) = ones[0], halves[0]
        assert 0 <= r1 <= 2 and 0 <= c1 <= 2
        assert 0 <= r2 <= 2 and 6 <= c2 <= 8


def test_canvas_too_small():
    with pytest.raises(ValueError, match="does not fit a canvas of 10x12"):
        check_canvas((8, 8), (10, 12), 2, 6)


def test_digits_bundle():
    data = load_digits(batch_size=16, seed=0)
    assert data.task_names == ["left", "right"]
    assert sum(data.sizes.values()) == 1797 * 2 - (1797 * 2 - sum(data.sizes.values()))
    assert data.sizes["validation"] == data.sizes["test"] == 2 * round(1797 * 0.2)
    x, y = next(iter(data.train))
    assert x.shape == (16, 10, 16, 1)
    assert float(tf.reduce_max(x)) <= 1.0 and float(tf.reduce_min(x)) >= 0.0
    for name in ("left", "right"):
        assert y[name].dtype == tf.int32
        assert 0 <= int(tf.reduce_min(y[name])) and int(tf.reduce_max(y[name])) <= 9
    assert all(t.higher_is_better and t.safety_metric == "accuracy" for t in data.tasks)


def test_digits_are_deterministic_and_splits_disjoint():
    first = next(iter(load_digits(seed=3).test))[0].numpy()
    again = next(iter(load_digits(seed=3).test))[0].numpy()
    np.testing.assert_array_equal(first, again)
    other = next(iter(load_digits(seed=4).test))[0].numpy()
    assert not np.array_equal(first, other)

    from sklearn.datasets import load_digits as sklearn_digits

    images = sklearn_digits().images
    order = np.random.default_rng(3).permutation(len(images))
    test_pool, train_pool = set(order[-359:]), set(order[: len(order) - 2 * 359])
    assert not test_pool & train_pool
