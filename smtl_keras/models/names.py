"""Names of the layers of the built models, by task."""

PUBLIC_ENCODER = "public_encoder"


def private_encoder_name(task_name):
    return f"{task_name}_private_encoder"


def stl_encoder_name(task_name):
    return f"{task_name}_encoder"


def head_name(task_name, path=None):
    return f"{task_name}_head" if path is None else f"{task_name}_{path}_head"


def gate_name(task_name):
    return f"{task_name}_gate"
