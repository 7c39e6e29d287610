"""Two-digit images from scikit-learn's bundled handwritten digits (offline, real)."""

import numpy as np
import tensorflow as tf

from smtl_keras.data.base import SPLITS
from smtl_keras.data.base import MultiTaskData
from smtl_keras.data.multidigit import pair_up
from smtl_keras.data.vision import classification_task
from smtl_keras.data.vision import conv_encoder

CANVAS = (10, 16)
MAX_SHIFT = 2
RIGHT_COLUMN = 6


def _load_sklearn_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError(
            "The 'digits' dataset needs scikit-learn, which ships the images. "
            "Install it with: pip install 'smtl_keras[digits]'"
        ) from error
    digits = load_digits()
    return (digits.images / 16.0).astype("float32")[..., None], digits.target.astype("int32")


def load_digits(
    batch_size=64,
    seed=0,
    pairs_per_image=2,
    validation_fraction=0.2,
    test_fraction=0.2,
    **unused,
):
    """MultiMNIST-style pairs of scikit-learn's 1,797 real 8x8 handwritten digits.

    The single digits are split into disjoint train / validation / test pools
    first, so no digit image appears in two splits. Each pool is composed into
    `pairs_per_image` times as many 10x16 canvases with a left and a right
    digit, shifted by up to 2 pixels; they overlap. Tasks `left` and `right`
    (10 classes each, accuracy for safety).

    Needs scikit-learn (`pip install 'smtl_keras[digits]'`); no network.
    """
    images, labels = _load_sklearn_digits()
    order = np.random.default_rng(seed).permutation(len(images))
    validation = int(round(len(order) * validation_fraction))
    test = int(round(len(order) * test_fraction))
    pools = {
        "train": order[: len(order) - validation - test],
        "validation": order[len(order) - validation - test : len(order) - test],
        "test": order[len(order) - test :],
    }
    splits, sizes = {}, {}
    for index, split in enumerate(SPLITS):
        pool = pools[split]
        single_images = tf.data.Dataset.from_tensor_slices(images[pool]).repeat(pairs_per_image)
        single_labels = tf.data.Dataset.from_tensor_slices(labels[pool]).repeat(pairs_per_image)
        splits[split] = pair_up(
            single_images, single_labels, CANVAS, MAX_SHIFT, RIGHT_COLUMN, seed * 10 + index
        ).cache()
        sizes[split] = len(pool) * pairs_per_image
    return MultiTaskData(
        "digits",
        [classification_task("left", 10), classification_task("right", 10)],
        conv_encoder(filters=(16, 32), units=64),
        splits,
        sizes,
        batch_size=batch_size,
        seed=seed,
        input_name="image",
        description="two overlapping real 8x8 handwritten digits (scikit-learn) per image; tasks: left, right",
    )
