"""Files of a comparison: results.json, results.csv, report.txt and the figure."""

import csv
import io
import os
import platform

from smtl_keras.training.safety import BASELINE
from smtl_keras.utils.io import atomic_path
from smtl_keras.utils.io import write_text


def package_versions():
    import importlib.metadata

    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("smtl_keras", "tensorflow", "keras", "numpy", "tensorflow-datasets", "absl-py"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def results_csv(runs, summary, tasks):
    """One row per (architecture, seed, task)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([
        "architecture", "seed", "task", "metric", "higher_is_better", "value",
        "stl_mean", "change_vs_stl", "gate_private_weight", "params", "pruned_params",
    ])
    stl = summary[BASELINE]["tasks"]
    for run in runs:
        for task in tasks:
            value = run["test"][task.name]
            base = stl[task.name]["mean"]
            sign = 1.0 if task.higher_is_better else -1.0
            writer.writerow([
                run["architecture"], run["seed"], task.name, task.safety_metric,
                task.higher_is_better, f"{value:.6g}", f"{base:.6g}",
                f"{sign * (value - base) / abs(base):.6g}" if base else "",
                f"{run['gates'][task.name]:.6g}" if run.get("gates") else "",
                run.get("params", ""), run.get("pruned_params") or "",
            ])
    return buffer.getvalue()


def write_figure(path, summary, tasks, histories, architectures):
    """Left: change vs STL per task and architecture. Right: gates over epochs.

    Returns False (and writes nothing) when matplotlib is not installed.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    import numpy as np

    others = [a for a in architectures if a != BASELINE and a in summary]
    # A bare Figure draws without pyplot, so an interactive session (a
    # notebook) keeps its own matplotlib backend.
    figure = Figure(figsize=(13, 4.8))
    left, right = figure.subplots(1, 2)
    width = 0.8 / max(len(tasks), 1)
    positions = np.arange(len(others))
    for index, task in enumerate(tasks):
        means = [100 * summary[a]["tasks"][task.name]["delta"] for a in others]
        stds = [100 * summary[a]["tasks"][task.name]["delta_std"] for a in others]
        bars = left.bar(positions + index * width, means, width, yerr=stds, label=task.name, capsize=2)
        for bar, arch in zip(bars, others):
            if summary[arch]["tasks"][task.name]["worse"]:
                bar.set_hatch("//")
    left.axhline(0.0, color="black", linewidth=0.8)
    left.set_xticks(positions + width * (len(tasks) - 1) / 2)
    left.set_xticklabels(others, rotation=20)
    left.set_ylabel("change vs STL (%), higher is better")
    left.set_title("Per-task change against single-task learning\n(hatched: negative sharing)")
    left.legend(fontsize=8)
    plotted = False
    for arch, history in histories.items():
        for task in tasks:
            values = history.get(f"gate_{task.name}")
            if values:
                right.plot(range(1, len(values) + 1), values, label=f"{arch}: {task.name}")
                plotted = True
    right.set_ylim(-0.02, 1.02)
    right.axhline(0.5, color="grey", linewidth=0.6, linestyle=":")
    right.set_xlabel("epoch")
    right.set_ylabel("private weight (lite: probability of private)")
    right.set_title("Gates over training (first seed)")
    if plotted:
        right.legend(fontsize=7)
    figure.tight_layout()
    with atomic_path(path, suffix=".png") as temporary:
        figure.savefig(temporary, dpi=110)
    return True


def write_report_files(output_dir, results, runs, summary, tasks, histories, architectures, report):
    from smtl_keras.utils.io import write_json

    write_json(os.path.join(output_dir, "results.json"), results)
    write_text(os.path.join(output_dir, "results.csv"), results_csv(runs, summary, tasks))
    write_text(os.path.join(output_dir, "report.txt"), report + "\n")
    return write_figure(os.path.join(output_dir, "safety.png"), summary, tasks, histories, architectures)
