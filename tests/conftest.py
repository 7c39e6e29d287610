import os

# Quiet TensorFlow's start-up logs so that test output shows what matters.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import smtl_keras  # noqa: E402,F401  (first: it imports TensorFlow without the start-up banner)

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Repeatable numbers: the same test gives the same result on every run.
tf.config.experimental.enable_op_determinism()


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session()
