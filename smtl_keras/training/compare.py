"""A whole comparison: every architecture, every seed, then the safety report."""

import os
import uuid

from smtl_keras.defaults import DEFAULT_ARCHITECTURES
from smtl_keras.models import get_architecture
from smtl_keras.training.protocol import train_architecture
from smtl_keras.training.report import package_versions
from smtl_keras.training.report import write_report_files
from smtl_keras.training.safety import BASELINE
from smtl_keras.training.safety import format_report
from smtl_keras.training.safety import rule_text
from smtl_keras.training.safety import summarize
from smtl_keras.utils.io import read_json



def check_output_dir(output_dir):
    """Creates `output_dir` and proves it writable, or raises ValueError."""
    try:
        os.makedirs(output_dir, exist_ok=True)
        probe = os.path.join(output_dir, f".write-test-{uuid.uuid4().hex}")
        with open(probe, "w") as handle:
            handle.write("ok")
        os.remove(probe)
    except OSError as error:
        raise ValueError(
            f"The output folder {output_dir!r} cannot be written: {error.strerror or error}"
        ) from error


def check_architectures(architectures):
    """Validates names; puts STL first (the report compares with it)."""
    architectures = [a for a in architectures if a]
    if not architectures:
        raise ValueError("No architectures given. Accepted: " + ", ".join(DEFAULT_ARCHITECTURES))
    for name in architectures:
        get_architecture(name)
    duplicates = sorted({a for a in architectures if architectures.count(a) > 1})
    if duplicates:
        raise ValueError(f"Architectures listed twice: {duplicates}")
    return [BASELINE] + [a for a in architectures if a != BASELINE]


def _check_same_config(output_dir, settings):
    """A resumed comparison must use the settings it was started with."""
    path = os.path.join(output_dir, "settings.json")
    if not os.path.exists(path):
        return
    earlier = read_json(path)
    changed = sorted(
        key for key in settings
        if key in earlier and key not in ("architectures", "seeds", "export") and earlier[key] != settings[key]
    )
    if changed:
        raise ValueError(
            f"{output_dir!r} holds runs made with other settings ({', '.join(changed)}: "
            f"{[earlier[k] for k in changed]} there, {[settings[k] for k in changed]} now). "
            "Use another --output_dir, or the same settings to resume."
        )


def run_comparison(
    data,
    architectures=DEFAULT_ARCHITECTURES,
    seeds=3,
    protocol=None,
    output_dir="smtl_runs",
    export=False,
    strategy=None,
    verbose=2,
    log=print,
    settings=None,
):
    """Trains every architecture with every seed under one protocol and reports safety.

    Runs that finished earlier in `output_dir` are skipped and an interrupted
    one continues from its last completed epoch, so a killed comparison is
    resumed by running it again.

    Args:
        data: A `MultiTaskData` (see `smtl_keras.load_dataset`).
        architectures: Registry names; STL is always included (first).
        seeds: Number of seeds (0 .. seeds - 1) per architecture.
        protocol: A `Protocol`; the defaults if None.
        output_dir: Where runs, results and the figure go.
        export: Also export every multi-task model of the first seed (and the
            pruned lite models) to `output_dir/export/` in the TF Serving layout.
        strategy: Optional `tf.distribute` strategy to build and train under.
        verbose: Keras `fit` verbosity.
        log: Function that prints progress lines.
        settings: Dict recorded in `results.json` (e.g. the command's flags).

    Returns:
        The results dict written to `results.json`.
    """
    from smtl_keras.training.protocol import Protocol

    protocol = protocol or Protocol()
    if not isinstance(seeds, int) or seeds <= 0:
        raise ValueError(f"seeds must be a positive int. Received: seeds={seeds!r}")
    architectures = check_architectures(list(architectures))
    check_output_dir(output_dir)
    settings = dict(settings or {})
    settings.setdefault("dataset", data.name)
    _check_same_config(output_dir, settings)
    from smtl_keras.utils.io import write_json

    write_json(os.path.join(output_dir, "settings.json"), settings)
    export_dir = os.path.join(output_dir, "export") if export else None
    total = len(architectures) * seeds
    runs = []
    number = 0
    for seed in range(seeds):
        for architecture in architectures:
            number += 1
            log(f"[{number}/{total}] {architecture} (seed {seed}): {get_architecture(architecture).description}")
            result = train_architecture(
                architecture, data, protocol, seed, output_dir,
                export_dir=export_dir if seed == 0 else None,
                strategy=strategy, verbose=verbose,
            )
            log(
                f"[{number}/{total}] {architecture} (seed {seed}) done in {result['seconds']:.1f}s: "
                + ", ".join(f"{t.name} {t.safety_metric}={result['test'][t.name]:.4f}" for t in data.tasks)
                + (" | gates " + " ".join(f"{k}={v:.2f}" for k, v in result["gates"].items()) if result["gates"] else "")
            )
            runs.append(result)

    summary = summarize(runs, data.tasks)
    stopping = f"early stopping (patience {protocol.patience})"
    dropout = "the variants' default path dropout" if protocol.path_dropout is None else (
        f"path dropout {protocol.path_dropout}")
    if protocol.path_loss:
        dropout += f", path loss {protocol.path_loss}"
    gated_training = (
        f"gated models: {dropout}, routes chosen and stopped by SafeSharing"
        if protocol.safe_sharing else f"gated models: {dropout}, stopped on val_loss"
    )
    title = (
        f"Safety report: {data.name} ({data.description}); test split; "
        f"{seeds} seed(s); epochs <= {protocol.epochs}, {stopping} on val_loss for STL and HPS; "
        f"{gated_training}; batch {data.batch_size}, Adam lr {protocol.learning_rate}"
    )
    report = format_report(summary, data.tasks, architectures, title=title)
    histories = {}
    for architecture in architectures:
        path = os.path.join(output_dir, "runs", architecture, "seed_0", "history.json")
        if os.path.exists(path):
            histories[architecture] = read_json(path).get("model", {})
    results = {
        "settings": settings,
        "protocol": protocol.__dict__,
        "dataset": {"name": data.name, "description": data.description, "sizes": data.sizes,
                    "batch_size": data.batch_size, **data.metadata},
        "tasks": [
            {"name": t.name, "metric": t.safety_metric, "higher_is_better": t.higher_is_better}
            for t in data.tasks
        ],
        "architectures": architectures,
        "seeds": list(range(seeds)),
        "rule": rule_text(data.tasks, seeds),
        "summary": summary,
        "runs": runs,
        "versions": package_versions(),
        "report": report,
    }
    figure = write_report_files(
        output_dir, results, runs, summary, data.tasks, histories, architectures, report
    )
    log("")
    log(report)
    log("")
    log(f"Results: {os.path.join(output_dir, 'results.json')}, results.csv, report.txt"
        + (", safety.png" if figure else " (no figure: pip install 'smtl_keras[plot]')"))
    for run in runs:
        for path in run.get("export", []):
            log(f"Exported for TF Serving: {path}")
    return results
