"""The tensorflow-datasets loaders, run through their real code on mock data."""

import keras
import numpy as np
import pytest
import tensorflow_datasets as tfds

import smtl_keras
from smtl_keras.data import DatasetNotAvailableError
from smtl_keras.data import load_dataset

CASES = {
    "multi_mnist": ({}, (32, 44, 1), {"left": 10, "right": 10}),
    "celeb_a": ({"attributes": ["Smiling", "Male"]}, (64, 64, 3), {"Smiling": 2, "Male": 2}),
    "smallnorb": ({}, (48, 48, 1), {"category": 5, "elevation": 9, "azimuth": 18, "lighting": 6}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_loader_on_mock_data_trains_a_model(name):
    options, shape, classes = CASES[name]
    with tfds.testing.mock_data(num_examples=8):
        data = load_dataset(name, batch_size=4, **options)
        assert data.task_names == list(classes)
        assert data.sizes == {"train": 8, "validation": 8, "test": 8}
        x, y = next(iter(data.train))
        assert tuple(x.shape) == (4, *shape)
        for task, count in classes.items():
            values = np.asarray(y[task])
            if count == 2:
                assert values.shape == (4, 1) and set(np.unique(values)) <= {0.0, 1.0}
            else:
                assert values.shape == (4,) and values.min() >= 0 and values.max() < count
        model = smtl_keras.build_smtl_model(
            data.inputs(), data.encoder, data.tasks, variant="lite", seed=0,
            optimizer=keras.optimizers.Adam(1e-3),
        )
        history = model.fit(data.train, validation_data=data.validation, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])


def test_celeb_a_all_attributes_and_bad_names():
    with tfds.testing.mock_data(num_examples=4):
        data = load_dataset("celeb_a", batch_size=2, attributes="all")
        assert len(data.tasks) == 40
        assert data.task_names[0] == "Five_o_Clock_Shadow"
        _, y = next(iter(data.train))
        assert set(y) == set(data.task_names)
    with pytest.raises(ValueError, match=r"Unknown CelebA attributes \['Smile'\]"):
        load_dataset("celeb_a", attributes=["Smile"])
    with pytest.raises(ValueError, match=r"Unknown smallnorb tasks \['colour'\]"):
        load_dataset("smallnorb", tasks=["colour"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_missing_data_says_how_to_get_it(name, tmp_path):
    with pytest.raises(DatasetNotAvailableError) as error:
        load_dataset(name, data_dir=str(tmp_path))
    message = str(error.value)
    assert f"is not prepared in {tmp_path}" in message
    assert "download_and_prepare" in message and "--data_dir" in message


def test_unknown_dataset():
    with pytest.raises(ValueError, match=r"Unknown dataset. Accepted: synthetic, digits, multi_mnist, celeb_a, smallnorb. Received: 'mnist'"):
        load_dataset("mnist")
