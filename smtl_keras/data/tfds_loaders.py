"""Loaders for multi-task datasets of tensorflow-datasets."""

import tensorflow as tf

from smtl_keras.data.base import MultiTaskData
from smtl_keras.data.base import DatasetNotAvailableError
from smtl_keras.data.multidigit import pair_up
from smtl_keras.data.vision import classification_task
from smtl_keras.data.vision import conv_encoder

CELEB_A_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald",
    "Bangs", "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry",
    "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee",
    "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose",
    "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair",
    "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick",
    "Wearing_Necklace", "Wearing_Necktie", "Young",
)
# Task names start with a letter; this is the one attribute that does not.
CELEB_A_TASK_NAMES = {"5_o_Clock_Shadow": "Five_o_Clock_Shadow"}
CELEB_A_DEFAULT_ATTRIBUTES = ("Smiling", "Male", "Young", "Eyeglasses", "Wearing_Hat", "Bald")

SMALLNORB_TASKS = {
    "category": ("label_category", 5),
    "elevation": ("label_elevation", 9),
    "azimuth": ("label_azimuth", 18),
    "lighting": ("label_lighting", 6),
}


def _tfds():
    import tensorflow_datasets as tfds

    return tfds


def tfds_split(name, split, data_dir=None, download=False):
    """Loads one split of a tfds dataset or explains how to get it.

    Raises:
        DatasetNotAvailableError: the data is not prepared in `data_dir` (and
            `download` is False or the download failed).
    """
    tfds = _tfds()
    try:
        return tfds.load(name, split=split, data_dir=data_dir, download=download)
    except Exception as error:  # tfds raises several types for missing data.
        where = data_dir or "the default tfds data folder (~/tensorflow_datasets)"
        raise DatasetNotAvailableError(
            f"The tensorflow-datasets dataset '{name}' is not prepared in {where}"
            f"{' and could not be downloaded' if download else ''}. On a machine "
            "with network access run: python -c \"import tensorflow_datasets as "
            f"tfds; tfds.builder('{name}', data_dir=DIR).download_and_prepare()\", "
            "copy DIR here and pass it as data_dir (--data_dir), or pass "
            f"download=True (--download). ({type(error).__name__}: {str(error)[:200]})"
        ) from error


def _splits_from_train_and_test(name, validation_fraction, data_dir, download):
    """Train / validation / test, validation taken from the end of tfds's train split."""
    percent = int(round(100 * (1 - validation_fraction)))
    return {
        "train": tfds_split(name, f"train[:{percent}%]", data_dir, download),
        "validation": tfds_split(name, f"train[{percent}%:]", data_dir, download),
        "test": tfds_split(name, "test", data_dir, download),
    }


def _bundle(name, tasks, splits, sizes, batch_size, seed, input_name, description, filters=(32, 64)):
    return MultiTaskData(
        name,
        tasks,
        conv_encoder(filters=filters, units=128),
        splits,
        sizes,
        batch_size=batch_size,
        seed=seed,
        input_name=input_name,
        description=description,
        shuffle_buffer=min(10_000, max(sizes["train"], 1)),
    )


def _count(dataset):
    return int(dataset.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1))


def load_multi_mnist(
    batch_size=64,
    seed=0,
    data_dir=None,
    download=False,
    validation_fraction=0.1,
    limit=None,
    **unused,
):
    """MultiMNIST composed from tfds `mnist`: a left and a right digit per image.

    Two 28x28 digits are placed on a 32x44 canvas, the right one 12 columns
    further, each shifted by up to 4 pixels, overlapping. Validation comes
    from the end of mnist's train split; test from its test split.
    Tasks `left`, `right` (10 classes each).

    Args:
        limit: Optional cap on the examples of each split (for quick runs).
    """
    raw = _splits_from_train_and_test("mnist", validation_fraction, data_dir, download)
    splits, sizes = {}, {}
    for index, (split, dataset) in enumerate(raw.items()):
        if limit:
            dataset = dataset.take(limit)
        images = dataset.map(lambda e: tf.cast(e["image"], tf.float32) / 255.0)
        labels = dataset.map(lambda e: e["label"])
        splits[split] = pair_up(images, labels, (32, 44), 4, 12, seed * 10 + index).cache()
        sizes[split] = _count(dataset)
    return _bundle(
        "multi_mnist",
        [classification_task("left", 10), classification_task("right", 10)],
        splits, sizes, batch_size, seed, "image",
        "MultiMNIST from tfds mnist: two overlapping digits; tasks: left, right",
    )


def load_celeb_a(
    batch_size=64,
    seed=0,
    data_dir=None,
    download=False,
    attributes=CELEB_A_DEFAULT_ATTRIBUTES,
    image_size=64,
    limit=None,
    **unused,
):
    """CelebA face attributes from tfds `celeb_a`: one binary task per attribute.

    Args:
        attributes: Attribute names, or `"all"` for all 40. Task names are the
            attribute names, except `5_o_Clock_Shadow`, whose task is
            `Five_o_Clock_Shadow` (either name is accepted here).
        image_size: Images are resized to `image_size x image_size`.
        limit: Optional cap on the examples of each split.
    """
    if attributes == "all":
        attributes = CELEB_A_ATTRIBUTES
    if isinstance(attributes, str):
        attributes = [a for a in attributes.split(",") if a]
    by_task_name = {task: attribute for attribute, task in CELEB_A_TASK_NAMES.items()}
    attributes = [by_task_name.get(a, a) for a in attributes]
    unknown = [a for a in attributes if a not in CELEB_A_ATTRIBUTES]
    if unknown or not attributes:
        raise ValueError(
            f"Unknown CelebA attributes {unknown or attributes}. Accepted: 'all' or "
            f"names from {', '.join(CELEB_A_ATTRIBUTES)}"
        )
    attributes = list(attributes)
    splits, sizes = {}, {}
    for split in ("train", "validation", "test"):
        dataset = tfds_split("celeb_a", split, data_dir, download)
        if limit:
            dataset = dataset.take(limit)

        def convert(example):
            image = tf.image.resize(tf.cast(example["image"], tf.float32) / 255.0, (image_size, image_size))
            labels = {
                CELEB_A_TASK_NAMES.get(a, a): tf.cast(example["attributes"][a], tf.float32)[None]
                for a in attributes
            }
            return image, labels

        splits[split] = dataset.map(convert, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        sizes[split] = _count(dataset)
    return _bundle(
        "celeb_a",
        [classification_task(CELEB_A_TASK_NAMES.get(a, a), 2) for a in attributes],
        splits, sizes, batch_size, seed, "image",
        f"CelebA faces, {len(attributes)} binary attributes",
    )


def load_smallnorb(
    batch_size=64,
    seed=0,
    data_dir=None,
    download=False,
    tasks=tuple(SMALLNORB_TASKS),
    image_size=48,
    validation_fraction=0.1,
    limit=None,
    **unused,
):
    """smallNORB toys from tfds `smallnorb`: category, elevation, azimuth, lighting.

    Uses the first camera's image, resized to `image_size`. Validation comes
    from the end of the train split.

    Args:
        tasks: Which of `category`, `elevation`, `azimuth`, `lighting`.
    """
    if isinstance(tasks, str):
        tasks = [t for t in tasks.split(",") if t]
    unknown = [t for t in tasks if t not in SMALLNORB_TASKS]
    if unknown or not tasks:
        raise ValueError(
            f"Unknown smallnorb tasks {unknown or tasks}. Accepted: {', '.join(SMALLNORB_TASKS)}"
        )
    raw = _splits_from_train_and_test("smallnorb", validation_fraction, data_dir, download)
    splits, sizes = {}, {}
    for split, dataset in raw.items():
        if limit:
            dataset = dataset.take(limit)

        def convert(example):
            image = tf.image.resize(tf.cast(example["image"], tf.float32) / 255.0, (image_size, image_size))
            labels = {t: tf.cast(example[SMALLNORB_TASKS[t][0]], tf.int32) for t in tasks}
            return image, labels

        splits[split] = dataset.map(convert, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        sizes[split] = _count(dataset)
    return _bundle(
        "smallnorb",
        [classification_task(t, SMALLNORB_TASKS[t][1]) for t in tasks],
        splits, sizes, batch_size, seed, "image",
        f"smallNORB toys; tasks: {', '.join(tasks)}",
    )
