import keras

from smtl_keras.models.gates import gate_values


class GateLogger(keras.callbacks.Callback):
    """Puts every task's gate value into the epoch logs.

    Adds `gate_<task>` (the private weight, see `smtl_keras.gate_values`) to
    the logs at the end of every epoch, so the progress bar, `History`, and
    `CSVLogger` or `TensorBoard` callbacks placed after it in the list show
    the gates over training. Models without gates add nothing.

    Args:
        prefix: Prefix of the log keys.

    Example:

    ```python
    history = model.fit(x, y, epochs=10, callbacks=[smtl_keras.GateLogger()])
    history.history["gate_left"]  # the private weight of task "left" per epoch
    ```
    """

    def __init__(self, prefix="gate_"):
        super().__init__()
        self.prefix = prefix

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for task, value in gate_values(self.model).items():
            logs[f"{self.prefix}{task}"] = value
