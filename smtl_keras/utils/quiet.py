"""Quieting TensorFlow's start-up messages in command-line tools."""

import contextlib
import logging
import os
import sys
import warnings


@contextlib.contextmanager
def quiet_stderr():
    """Sends the process's stderr (file descriptor 2) to /dev/null for a while."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def import_tensorflow_quietly(num_cpu_devices=0):
    """Imports TensorFlow and Keras without their start-up noise.

    TensorFlow's C++ runtime prints its start-up lines (oneDNN, CUDA probing)
    before any log level applies, so stderr is muted while it starts. Python
    warnings and absl logs below ERROR are muted too.

    Args:
        num_cpu_devices: If > 1, split the CPU into this many logical devices
            (to run multi-device strategies on one machine).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_stderr():
        import tensorflow as tf

        if num_cpu_devices and num_cpu_devices > 1:
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * num_cpu_devices
            )
        tf.config.list_logical_devices()
        import keras  # noqa: F401
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning, module="keras")
    return tf
