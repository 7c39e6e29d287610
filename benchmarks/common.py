"""Shared by the benchmark scripts: environment facts and text tables."""

import datetime
import os
import platform
import sys

# Run from a checkout: make the package importable without installing it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# TensorFlow's C++ INFO and WARNING lines (XLA start-up, ...) would bury the tables.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def cpu_name():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment():
    """Date, machine and package versions, for the results files."""
    from smtl_keras.training.report import package_versions

    import tensorflow as tf

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        **package_versions(),
    }


def table(rows):
    """Rows (first = header) as an aligned text table."""
    from smtl_keras.utils.text import format_table

    return format_table(rows)


def write_results(output_dir, name, text, rows, args):
    """Prints `text`, then writes `<name>.txt` and `<name>.json` (with the environment)."""
    from smtl_keras.utils.io import write_json
    from smtl_keras.utils.io import write_text

    print("\n" + text)
    os.makedirs(output_dir, exist_ok=True)
    write_text(os.path.join(output_dir, f"{name}.txt"), text + "\n")
    write_json(os.path.join(output_dir, f"{name}.json"), {
        "environment": environment(), "arguments": vars(args), "rows": rows,
    })
    print(f"Results: {os.path.join(output_dir, name + '.json')}, {name}.txt")


def save_figure(figure, path):
    """Writes a matplotlib figure as a PNG, atomically."""
    from smtl_keras.utils.io import atomic_path

    figure.tight_layout()
    with atomic_path(path, suffix=".png") as temporary:
        figure.savefig(temporary, dpi=110)
    return True
