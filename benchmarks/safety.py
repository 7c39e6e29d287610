"""Safety across task relatedness: is any architecture worse than single-task learning?

Trains every architecture under the fair protocol (same splits, optimizer,
epoch budget, batch size; early stopping on validation with the best weights
restored) on:

- the synthetic tasks of the MMoE paper at correlation 1.0, 0.5, 0.0 and -0.5
  (two tasks), and four tasks at correlation 0.0;
- the `digits` data (two real handwritten digits per image);
- a poisoned-task probe: two synthetic tasks where the labels of `y2` are pure
  noise; does the noise task hurt the clean task `y1`?

Prints and writes, per setting, the safety report (metric mean and standard
deviation over seeds, change against STL, negative-sharing flag), then a
summary: negative-sharing cases per architecture over all (task, setting)
pairs, Delta_m per architecture and setting, and the probe table.

    python benchmarks/safety.py                  # full: 5 seeds (probe: 10), every setting, the defaults
    python benchmarks/safety.py --config=paper   # the same with the paper's training
    python benchmarks/safety.py --quick          # a smoke run (under a minute)
    python benchmarks/safety.py --path_dropout=0.5 --seeds=3 --probe_seeds=3 \
        --architectures=stl,lite,lite_decoder --settings=corr_0.5 \
        --output_dir=benchmarks/results/safety_lite_pd05   # one path dropout for every variant

Runs that finished earlier in --output_dir are reused (delete it to rerun).
"""

import argparse
import itertools
import os
import sys

from common import environment
from common import save_figure
from common import table

SETTINGS = {
    "corr_1.0": ("synthetic", {"correlation": 1.0}),
    "corr_0.5": ("synthetic", {"correlation": 0.5}),
    "corr_0.0": ("synthetic", {"correlation": 0.0}),
    "corr_-0.5": ("synthetic", {"correlation": -0.5}),
    "4tasks_corr_0.0": ("synthetic", {"num_tasks": 4, "correlation": 0.0}),
    "digits": ("digits", {}),
}
PROBE = ("poisoned", "synthetic", {"correlation": 0.5, "poisoned_tasks": ["y2"]})
PROBE_CLEAN_TASK = "y1"
QUICK_SETTINGS = ("corr_0.0",)
ARCHITECTURES = ("stl", "hps", "smtl", "lite", "smtl_decoder", "lite_decoder")
QUICK_ARCHITECTURES = ("stl", "hps", "smtl", "lite")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 seed, tiny data, 2 epochs")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per architecture and setting")
    parser.add_argument("--probe_seeds", type=int, default=10,
                        help="seeds of the poisoned-task probe, whose target (a ratio of means within 10%%) needs "
                             "more seeds than the settings' flags")
    parser.add_argument("--config", choices=("default", "paper"), default="default",
                        help="default: the variants' default path dropout and SafeSharing; paper: the paper's training "
                             "(no path dropout, early stopping on the summed validation loss)")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--learning_rate", type=float, default=1e-3)
    parser.add_argument("--path_dropout", type=float, default=None,
                        help="default config only: one path dropout for every gated variant instead of each "
                             "variant's default")
    parser.add_argument("--path_loss", type=float, default=0.0,
                        help="default config only: weight of every path's own loss in the gated variants' training "
                             "(build_smtl_model's path_loss)")
    parser.add_argument("--settings", default=None, help="comma-separated subset of: " + ", ".join(SETTINGS))
    parser.add_argument("--architectures", default=None)
    parser.add_argument("--output_dir", default=None,
                        help="default: benchmarks/results/safety (paper: benchmarks/results/safety_paper)")
    args = parser.parse_args(argv)
    if args.output_dir is None:
        args.output_dir = os.path.join(
            "benchmarks", "results", "safety_paper" if args.config == "paper" else "safety")
    if args.quick:
        args.seeds, args.probe_seeds, args.epochs, args.patience = 1, 1, 2, 2
    if args.path_dropout is not None and (args.config == "paper" or not 0 <= args.path_dropout <= 1):
        parser.error(f"--path_dropout must lie in [0, 1] and goes with --config=default; got {args.path_dropout}")
    if args.path_loss and (args.config == "paper" or args.path_loss < 0):
        parser.error(f"--path_loss must be >= 0 and goes with --config=default; got {args.path_loss}")
    if args.seeds < 1 or args.probe_seeds < 1 or args.epochs < 1 or args.patience < 0:
        parser.error("--seeds, --probe_seeds and --epochs must be positive, --patience non-negative")
    names = args.settings.split(",") if args.settings else list(QUICK_SETTINGS if args.quick else SETTINGS)
    unknown = [n for n in names if n not in SETTINGS]
    if unknown:
        parser.error(f"unknown settings {unknown}; accepted: {', '.join(SETTINGS)}")
    args.settings = names
    args.architectures = (
        args.architectures.split(",") if args.architectures
        else list(QUICK_ARCHITECTURES if args.quick else ARCHITECTURES)
    )
    return args


def load(dataset, options, args):
    from smtl_keras import load_dataset

    options = dict(options, batch_size=args.batch_size, seed=0)
    if args.quick and dataset == "synthetic":
        options["num_examples"] = 400
    return load_dataset(dataset, **options)


def run_setting(name, dataset, options, args, seeds):
    from smtl_keras.training.compare import run_comparison
    from smtl_keras.training.protocol import Protocol

    data = load(dataset, options, args)
    print(f"\n=== {name}: {data.description}", flush=True)
    paper = args.config == "paper"
    protocol = Protocol(
        epochs=args.epochs, learning_rate=args.learning_rate, patience=args.patience or None,
        path_dropout=0.0 if paper else args.path_dropout, path_loss=args.path_loss,
        safe_sharing=not paper,
    )
    return run_comparison(
        data, architectures=args.architectures, seeds=seeds, protocol=protocol,
        output_dir=os.path.join(args.output_dir, "runs", name), verbose=0,
        log=lambda line: print(line, flush=True) if line.startswith("[") and "done" in line else None,
        settings={"benchmark": "safety", "config": args.config, "setting": name, "dataset": dataset, **options,
                  "epochs": args.epochs, "patience": args.patience, "seeds": seeds,
                  "batch_size": args.batch_size, "learning_rate": args.learning_rate, "path_dropout": args.path_dropout,
                  **({"path_loss": args.path_loss} if args.path_loss else {})},
    )


def _pct(value, std=None):
    text = f"{100 * value:+.1f}%"
    return text if std is None else f"{text} ± {100 * std:.1f}"


def summary_tables(results, probe, architectures):
    archs = [a for a in architectures if a != "stl"]
    header = ["architecture"] + list(results) + ["negative-sharing cases"]
    delta_rows = [header]
    cases = {}
    for arch in archs:
        row, count, total = [arch], 0, 0
        for name, result in results.items():
            entry = result["summary"][arch]
            worse = entry["negative_tasks"]
            count += len(worse)
            total += len(entry["tasks"])
            row.append(f"{_pct(entry['delta_m'], entry['delta_m_std'])} ({len(worse)}/{len(entry['tasks'])})")
        cases[arch] = {"worse": count, "pairs": total}
        row.append(f"{count}/{total}")
        delta_rows.append(row)
    probe_rows = [["architecture", f"clean task {PROBE_CLEAN_TASK} MSE", "ratio to STL", "negative sharing", "gate of clean task"]]
    stl = probe["summary"]["stl"]["tasks"][PROBE_CLEAN_TASK]["mean"]
    probe_summary = {}
    for arch in [a for a in architectures if a in probe["summary"]]:
        entry = probe["summary"][arch]
        task = entry["tasks"][PROBE_CLEAN_TASK]
        gate = entry["gates"].get(PROBE_CLEAN_TASK)
        ratio = task["mean"] / stl
        probe_summary[arch] = {"mse": task["mean"], "std": task["std"], "ratio": ratio, "worse": task["worse"],
                               "gate": gate[0] if gate else None}
        probe_rows.append([
            arch, f"{task['mean']:.4f} ± {task['std']:.4f}", f"{ratio:.3f}",
            "-" if arch == "stl" else ("WORSE" if task["worse"] else "no"),
            f"{gate[0]:.2f}" if gate else "-",
        ])
    return table(delta_rows), table(probe_rows), cases, probe_summary


def stl_against_itself(probe, group_sizes=(3, 5)):
    """The probe's ratio for a method that is STL: STL's seeds against each other.

    For every ordered pair of disjoint groups of k seeds, the mean clean-task
    MSE of one group over the other's. How often that ratio exceeds the
    probe's limit is how often an exact copy of STL would miss the target by
    seed noise alone, with k seeds per side.
    """
    values = [run["test"][PROBE_CLEAN_TASK] for run in probe["runs"] if run["architecture"] == "stl"]
    found = {}
    for k in group_sizes:
        if 2 * k > len(values):
            continue
        ratios = []
        for first in itertools.combinations(range(len(values)), k):
            rest = [i for i in range(len(values)) if i not in first]
            for second in itertools.combinations(rest, k):
                ratios.append(sum(values[i] for i in second) / sum(values[i] for i in first))
        found[k] = {"pairs": len(ratios), "min": min(ratios), "max": max(ratios),
                    "share_above_limit": sum(r > PROBE_LIMIT for r in ratios) / len(ratios)}
    return found


def probe_per_seed(probe, runs_dir, architectures):
    """Per seed: the clean task's test MSE and route, and its private path's best validation MSE.

    The validation figure is the best epoch of the single-task path: STL's
    `val_loss`, a gated model's private path alone (`safe_<task>_private`).
    """
    from smtl_keras.utils.io import read_json

    seeds = sorted({run["seed"] for run in probe["runs"]})
    rows = [["architecture"] + [f"seed {s}" for s in seeds] + ["validation / STL"]]
    found, stl_validation = {}, None
    for arch in [a for a in architectures if a in probe["summary"]]:
        by_seed = {run["seed"]: run for run in probe["runs"] if run["architecture"] == arch}
        cells, validation = [], []
        for seed in seeds:
            run = by_seed[seed]
            route = (run.get("routes") or {}).get(PROBE_CLEAN_TASK)
            cells.append(f"{run['test'][PROBE_CLEAN_TASK]:.3f}" + (f" {route[:3]}" if route else ""))
            history = read_json(os.path.join(runs_dir, "runs", arch, f"seed_{seed}", "history.json"))
            if arch == "stl":
                validation.append(min(history[PROBE_CLEAN_TASK]["val_loss"]))
            elif f"safe_{PROBE_CLEAN_TASK}_private" in history.get("model", {}):
                validation.append(min(history["model"][f"safe_{PROBE_CLEAN_TASK}_private"]))
        mean = sum(validation) / len(validation) if len(validation) == len(seeds) else None
        if arch == "stl":
            stl_validation = mean
        ratio = mean / stl_validation if mean is not None and stl_validation else None
        found[arch] = {"test": [by_seed[s]["test"][PROBE_CLEAN_TASK] for s in seeds],
                       "routes": [(by_seed[s].get("routes") or {}).get(PROBE_CLEAN_TASK) for s in seeds],
                       "private_validation": validation if mean is not None else None,
                       "private_validation_ratio": ratio}
        rows.append([arch] + cells + ["-" if ratio is None else f"{ratio:.3f}"])
    return table(rows), found


def stl_against_itself_text(found):
    if not found:
        return "STL against itself: needs at least 6 probe seeds."
    parts = [
        f"with {k} seeds a side, the ratio ranges {v['min']:.3f} to {v['max']:.3f} and exceeds "
        f"{PROBE_LIMIT:.2f} in {100 * v['share_above_limit']:.0f}% of {v['pairs']} pairs of seed groups"
        for k, v in found.items()
    ]
    return ("STL against itself (the probe's clean-task MSE of disjoint groups of STL seeds, one over the "
            "other): " + "; ".join(parts) + ".")


RELATED_SETTINGS = ("corr_1.0", "corr_0.5")
PROBE_LIMIT = 1.10


def targets_table(results, probe, cases, probe_summary, architectures):
    """The three safety targets per architecture, each met or not."""
    rows = [["architecture", "no negative sharing", f"probe clean-task MSE <= {PROBE_LIMIT:.2f} x STL",
             "keeps the benefit where tasks are related"]]
    verdicts = {}
    for arch in [a for a in architectures if a not in ("stl", "hps")]:
        no_cases = cases[arch]["worse"] == 0
        ratio = probe_summary[arch]["ratio"]
        benefit = []
        for name in RELATED_SETTINGS:
            if name not in results or "hps" not in results[name]["summary"]:
                continue  # the benefit is judged against HPS
            entry, hps = results[name]["summary"][arch], results[name]["summary"]["hps"]
            allowed = max(entry["delta_m_std"], hps["delta_m_std"])
            ok = entry["delta_m"] > 0 and entry["delta_m"] >= hps["delta_m"] - allowed
            benefit.append((name, ok, entry["delta_m"], hps["delta_m"], allowed))
        keeps = all(ok for _, ok, *_ in benefit) if benefit else None
        verdicts[arch] = {"no_negative_sharing": no_cases, "probe_ratio": ratio,
                          "probe_ok": ratio <= PROBE_LIMIT, "keeps_benefit": keeps}
        rows.append([
            arch,
            f"{'yes' if no_cases else 'NO'} ({cases[arch]['worse']}/{cases[arch]['pairs']})",
            f"{'yes' if ratio <= PROBE_LIMIT else 'NO'} ({ratio:.3f})",
            "n/a" if keeps is None else ("yes" if keeps else "NO") + " (" + "; ".join(
                f"{n}: {100 * d:+.1f}% vs HPS {100 * h:+.1f}% - {100 * a:.1f}" for n, _, d, h, a in benefit) + ")",
        ])
    return table(rows), verdicts


def write_figure(path, results, architectures):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False
    import numpy as np

    archs = [a for a in architectures if a != "stl"]
    columns = [(name, task) for name, r in results.items() for task in r["summary"]["stl"]["tasks"]]
    values = np.array([[100 * results[n]["summary"][a]["tasks"][t]["delta"] for n, t in columns] for a in archs])
    worse = [[results[n]["summary"][a]["tasks"][t]["worse"] for n, t in columns] for a in archs]
    figure = Figure(figsize=(max(8, 0.7 * len(columns)), 0.6 * len(archs) + 2))
    axis = figure.subplots()
    limit = max(5.0, float(np.nanmax(np.abs(values))))
    image = axis.imshow(values, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
    for i in range(len(archs)):
        for j in range(len(columns)):
            axis.text(j, i, f"{values[i, j]:+.0f}{'*' if worse[i][j] else ''}", ha="center", va="center", fontsize=7)
    axis.set_yticks(range(len(archs)), archs)
    axis.set_xticks(range(len(columns)), [f"{n}\n{t}" for n, t in columns], fontsize=7, rotation=45, ha="right")
    axis.set_title("Change against STL per task (%), * = negative sharing")
    figure.colorbar(image, ax=axis, fraction=0.03)
    return save_figure(figure, path)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from smtl_keras.utils.quiet import import_tensorflow_quietly

    tf = import_tensorflow_quietly()
    tf.config.experimental.enable_op_determinism()
    from smtl_keras.utils.io import write_json
    from smtl_keras.utils.io import write_text

    results = {}
    for name in args.settings:
        dataset, options = SETTINGS[name]
        results[name] = run_setting(name, dataset, options, args, args.seeds)
    probe_name, probe_dataset, probe_options = PROBE
    probe = run_setting(probe_name, probe_dataset, probe_options, args, args.probe_seeds)

    deltas, probe_table, cases, probe_summary = summary_tables(results, probe, args.architectures)
    targets, verdicts = targets_table(results, probe, cases, probe_summary, args.architectures)
    rule = next(iter(results.values()))["rule"]
    itself = stl_against_itself(probe)
    per_seed, per_seed_found = probe_per_seed(probe, os.path.join(args.output_dir, "runs", probe_name),
                                              args.architectures)
    text = "\n\n".join([
        f"Configuration: {args.config}. Delta_m vs STL (mean ± std over seeds) and tasks worse "
        "than STL, per setting:",
        deltas,
        f"Poisoned-task probe ({probe['dataset']['description']}): the clean task against STL.",
        probe_table,
        "Probe per seed: the clean task's test MSE and route (lea: learned gate, pub: public path, "
        "pri: private path); last column: mean best validation MSE of the clean task's private path "
        "(STL: of STL) over STL's.",
        per_seed,
        stl_against_itself_text(itself),
        "Safety targets (benefit: Delta_m > 0 and not below HPS's by more than the larger of "
        "the two Delta_m standard deviations):",
        targets,
        rule,
    ])
    print("\n" + text)
    os.makedirs(args.output_dir, exist_ok=True)
    write_text(os.path.join(args.output_dir, "safety.txt"), text + "\n")
    for name, result in {**results, probe_name: probe}.items():
        write_text(os.path.join(args.output_dir, f"report_{name}.txt"), result["report"] + "\n")
    write_json(os.path.join(args.output_dir, "safety.json"), {
        "environment": environment(),
        "arguments": vars(args),
        "rule": rule,
        "negative_sharing_cases": cases,
        "probe": probe_summary,
        "probe_stl_against_itself": itself,
        "probe_per_seed": per_seed_found,
        "targets": verdicts,
        "settings": {name: {"dataset": r["dataset"], "summary": r["summary"]} for name, r in results.items()},
        "probe_setting": {"dataset": probe["dataset"], "summary": probe["summary"]},
    })
    if write_figure(os.path.join(args.output_dir, "safety.png"), results, args.architectures):
        print(f"\nFigure: {os.path.join(args.output_dir, 'safety.png')}")
    print(f"Results: {os.path.join(args.output_dir, 'safety.json')}, safety.txt, report_<setting>.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
