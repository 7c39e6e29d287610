"""Composing two digit images into one MultiMNIST-style canvas."""

import tensorflow as tf


def compose_pair(left, right, canvas, max_shift, right_column, seed):
    """Places two digits on one canvas: one on the left, one on the right.

    The MultiMNIST recipe (two digits overlaid on a larger canvas with random
    shifts, Sabour et al. 2017; Sener and Koltun 2018): the left digit goes to
    the top-left corner and the right digit `right_column` pixels to the right,
    each shifted by up to `max_shift` pixels in both directions; overlapping
    pixels take the maximum.

    Args:
        left, right: `(height, width, 1)` float images in [0, 1].
        canvas: `(height, width)` of the result.
        max_shift: Largest random shift in pixels.
        right_column: Column of the right digit before its shift.
        seed: `(2,)` int tensor, the stateless seed of the shifts.
    """
    height, width = canvas
    digit_h, digit_w = left.shape[0], left.shape[1]
    shifts = tf.random.stateless_uniform([4], seed=seed, maxval=max_shift + 1, dtype=tf.int32)

    def place(image, row, column):
        return tf.pad(
            image,
            [[row, height - digit_h - row], [column, width - digit_w - column], [0, 0]],
        )

    first = place(left, shifts[0], shifts[1])
    second = place(right, shifts[2], right_column + shifts[3])
    return tf.ensure_shape(tf.maximum(first, second), (height, width, left.shape[-1]))


def check_canvas(digit_shape, canvas, max_shift, right_column):
    """Raises if a shifted digit would fall off the canvas."""
    height, width = canvas
    digit_h, digit_w = digit_shape
    if digit_h + max_shift > height or right_column + max_shift + digit_w > width:
        raise ValueError(
            f"A {digit_h}x{digit_w} digit shifted by up to {max_shift} pixels "
            f"(right digit at column {right_column}) does not fit a canvas of "
            f"{height}x{width}"
        )


def pair_up(images, labels, canvas, max_shift, right_column, seed):
    """A dataset of composed pairs: example `i` pairs image `i` with a shuffled partner.

    Args:
        images: Dataset of `(height, width, 1)` float images.
        labels: Dataset of int class ids, aligned with `images`.
        seed: Python int; fixes the partners and the shifts.

    Returns:
        Dataset of `(canvas_image, {"left": id, "right": id})`.
    """
    check_canvas(tuple(images.element_spec.shape[:2]), canvas, max_shift, right_column)
    first = tf.data.Dataset.zip((images, labels))
    partners = first.shuffle(100_000, seed=seed, reshuffle_each_iteration=False)
    indices = tf.data.Dataset.range(2**62)

    def compose(index, a, b):
        (left, left_label), (right, right_label) = a, b
        image = compose_pair(
            left, right, canvas, max_shift, right_column,
            seed=tf.stack([tf.cast(seed, tf.int64), index]),
        )
        return image, {
            "left": tf.cast(left_label, tf.int32),
            "right": tf.cast(right_label, tf.int32),
        }

    return tf.data.Dataset.zip((indices, first, partners)).map(
        compose, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
