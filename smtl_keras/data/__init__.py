"""Multi-task datasets: one call gives splits, tasks and a default encoder."""

from smtl_keras.defaults import OFFLINE_DATASETS
from smtl_keras.data.base import DatasetNotAvailableError
from smtl_keras.data.base import MultiTaskData
from smtl_keras.data.digits import load_digits
from smtl_keras.data.synthetic import load_synthetic
from smtl_keras.data.synthetic import make_synthetic
from smtl_keras.data.tfds_loaders import load_celeb_a
from smtl_keras.data.tfds_loaders import load_multi_mnist
from smtl_keras.data.tfds_loaders import load_smallnorb

DATASETS = {
    "synthetic": load_synthetic,
    "digits": load_digits,
    "multi_mnist": load_multi_mnist,
    "celeb_a": load_celeb_a,
    "smallnorb": load_smallnorb,
}



def load_dataset(name, **kwargs):
    """Loads the dataset `name` (see `DATASETS`) with its keyword arguments.

    Returns:
        A `MultiTaskData`.
    """
    if name not in DATASETS:
        raise ValueError(
            f"Unknown dataset. Accepted: {', '.join(DATASETS)}. Received: {name!r}"
        )
    return DATASETS[name](**kwargs)


__all__ = [
    "DATASETS",
    "DatasetNotAvailableError",
    "MultiTaskData",
    "OFFLINE_DATASETS",
    "load_celeb_a",
    "load_dataset",
    "load_digits",
    "load_multi_mnist",
    "load_smallnorb",
    "load_synthetic",
    "make_synthetic",
]
