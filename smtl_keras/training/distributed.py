"""Data-parallel training on the JAX backend with `keras.distribution`."""

import dataclasses

import keras


@dataclasses.dataclass(frozen=True)
class DataParallelInfo:
    """Where this process stands in a data-parallel run."""

    process_id: int
    num_processes: int
    devices: tuple

    @property
    def is_chief(self):
        """Process 0 writes the results and the exports."""
        return self.process_id == 0


def start_data_parallel(coordinator_address=None, num_processes=1, process_id=0):
    """Sets Keras's `DataParallel` distribution over every device of every process.

    One process uses all its local devices (several GPUs or TPU cores). For
    several processes (hosts), every process calls this with the same
    `coordinator_address` (`host:port` of process 0) and `num_processes`,
    and its own `process_id`; `keras.distribution.initialize` connects them
    (on CPUs over gloo collectives). Every process must then build the same
    model with the same seed and train on a `tf.data.Dataset` with a known
    global batch size, which Keras splits between the processes.

    Needs the JAX backend (`KERAS_BACKEND=jax`): multi-worker training through
    `model.fit` is not supported on TensorFlow's `MultiWorkerMirroredStrategy`.

    Returns:
        A `DataParallelInfo`.
    """
    backend = keras.backend.backend()
    if backend != "jax":
        raise ValueError(
            "Data-parallel training with keras.distribution needs the JAX backend: "
            f"set KERAS_BACKEND=jax before starting. Received backend: {backend!r}"
        )
    if not isinstance(num_processes, int) or num_processes < 1:
        raise ValueError(f"num_processes must be a positive int. Received: {num_processes!r}")
    if not isinstance(process_id, int) or not 0 <= process_id < num_processes:
        raise ValueError(
            f"process_id must lie in [0, num_processes={num_processes}). Received: {process_id!r}"
        )
    if num_processes > 1:
        if not coordinator_address:
            raise ValueError(
                "Several processes need the coordinator address (host:port of process 0). "
                "Received: coordinator_address=None"
            )
        import jax

        # Collectives between CPU processes go over gloo (GPUs use their own).
        # Set before the backend starts: nothing may touch JAX devices before.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        keras.distribution.initialize(
            job_addresses=coordinator_address, num_processes=num_processes, process_id=process_id
        )
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    return DataParallelInfo(process_id=process_id, num_processes=num_processes, devices=tuple(devices))
