"""The bundle every loader returns: splits, tasks and a default encoder."""

import math

import keras
import tensorflow as tf

SPLITS = ("train", "validation", "test")


class DatasetNotAvailableError(RuntimeError):
    """A dataset is not on this machine and cannot be fetched now."""


class MultiTaskData:
    """Everything needed to build and fit models on one multi-task dataset.

    Every split yields `(inputs, {task_name: label})`; `inputs` is one tensor
    (named `input_name`) or a dict of tensors keyed by input name.

    Attributes:
        name: Dataset name, e.g. `"synthetic"`.
        tasks: List of `smtl_keras.Task` (heads, losses, metrics, and the
            safety metric with its direction).
        encoder: A sensible default encoder factory `f(name)`.
        sizes: Dict `{split: number of examples}`.
        batch_size: Batch size of `train`, `validation` and `test`.
        description: One line on what the data is.

    The batched splits are `train` (reshuffled every epoch), `validation` and
    `test`, all prefetched. `train_epochs` gives the stream the training
    command uses: the order of epoch `k` depends on `(seed, k)` only, so a run
    resumed at epoch `k` sees the same batches as an uninterrupted one.
    """

    def __init__(
        self,
        name,
        tasks,
        encoder,
        splits,
        sizes,
        batch_size=64,
        seed=0,
        input_name="features",
        description="",
        shuffle_buffer=None,
        metadata=None,
    ):
        missing = [split for split in SPLITS if split not in splits]
        if missing:
            raise ValueError(f"Missing splits {missing}; a dataset needs {list(SPLITS)}")
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(
                f"batch_size must be a positive int. Received: batch_size={batch_size!r}"
            )
        self.name = name
        self.tasks = list(tasks)
        self.encoder = encoder
        self.examples = dict(splits)
        self.sizes = dict(sizes)
        self.batch_size = batch_size
        self.seed = seed
        self.input_name = input_name
        self.description = description
        self.shuffle_buffer = shuffle_buffer or max(1, self.sizes["train"])
        self.metadata = dict(metadata or {})
        # Several processes training data-parallel need every batch full (the
        # global batch is split evenly between them): see `full_batches_only`.
        self.drop_remainder = False

    @property
    def task_names(self):
        return [task.name for task in self.tasks]

    def inputs(self):
        """Fresh `keras.Input`s matching the data: one tensor or a dict."""
        spec = self.examples["train"].element_spec[0]
        if isinstance(spec, dict):
            return {
                key: keras.Input(shape=value.shape, dtype=value.dtype.name, name=key)
                for key, value in spec.items()
            }
        return keras.Input(shape=spec.shape, dtype=spec.dtype.name, name=self.input_name)

    def full_batches_only(self):
        """Drops the last partial batch of every split and epoch.

        Needed for data-parallel training over several processes, where the
        global batch is split evenly between them; up to `batch_size - 1`
        examples per split are then left out.
        """
        self.drop_remainder = True
        return self

    def _batched(self, dataset):
        return dataset.batch(self.batch_size, drop_remainder=self.drop_remainder).prefetch(
            tf.data.AUTOTUNE
        )

    @property
    def train(self):
        shuffled = self.examples["train"].shuffle(
            self.shuffle_buffer, seed=self.seed, reshuffle_each_iteration=True
        )
        return self._batched(shuffled)

    @property
    def validation(self):
        return self._batched(self.examples["validation"])

    @property
    def test(self):
        return self._batched(self.examples["test"])

    @property
    def steps_per_epoch(self):
        if self.drop_remainder:
            return self.sizes["train"] // self.batch_size
        return math.ceil(self.sizes["train"] / self.batch_size)

    def train_epochs(self, start_epoch, epochs, seed):
        """Training batches for epochs `start_epoch .. epochs - 1`, back to back.

        Pass it to `fit` with `steps_per_epoch=self.steps_per_epoch` and
        `initial_epoch=start_epoch`.
        """
        epochs_left = list(range(start_epoch, epochs))
        if not epochs_left:
            raise ValueError(f"No epochs left: start_epoch={start_epoch}, epochs={epochs}")
        # One shuffled pass per epoch with a Python-int seed of its own; the
        # choice stream takes `steps_per_epoch` batches from each in turn.
        passes = [
            self.examples["train"]
            .shuffle(self.shuffle_buffer, seed=seed * 1_000_003 + epoch, reshuffle_each_iteration=False)
            .batch(self.batch_size, drop_remainder=self.drop_remainder)
            for epoch in epochs_left
        ]
        choices = tf.data.Dataset.range(len(passes)).flat_map(
            lambda index: tf.data.Dataset.from_tensors(index).repeat(self.steps_per_epoch)
        )
        stream = tf.data.Dataset.choose_from_datasets(passes, choices)
        if self.drop_remainder:
            # Regroup into the same full batches, so that the batch size is
            # static and keras.distribution can split it between processes.
            stream = stream.unbatch().batch(self.batch_size, drop_remainder=True)
        return stream.prefetch(tf.data.AUTOTUNE)

    def select(self, dataset, task_names):
        """`dataset` with the targets of `task_names` only (for single-task models)."""
        names = list(task_names)
        return dataset.map(lambda x, y: (x, {name: y[name] for name in names}))

    def __repr__(self):
        return (
            f"MultiTaskData(name={self.name!r}, tasks={self.task_names}, "
            f"sizes={self.sizes}, batch_size={self.batch_size})"
        )


def split_sizes(num_examples, validation_fraction, test_fraction):
    """Sizes of train / validation / test for `num_examples` in total."""
    validation = int(round(num_examples * validation_fraction))
    test = int(round(num_examples * test_fraction))
    train = num_examples - validation - test
    if min(train, validation, test) <= 0:
        raise ValueError(
            f"num_examples={num_examples} is too small for a validation fraction "
            f"of {validation_fraction} and a test fraction of {test_fraction}"
        )
    return {"train": train, "validation": validation, "test": test}


def from_arrays(features, labels, sizes):
    """Splits in-memory arrays in order into train / validation / test datasets."""
    splits = {}
    start = 0
    for split in SPLITS:
        stop = start + sizes[split]
        splits[split] = tf.data.Dataset.from_tensor_slices(
            (features[start:stop], {name: value[start:stop] for name, value in labels.items()})
        )
        start = stop
    return splits
