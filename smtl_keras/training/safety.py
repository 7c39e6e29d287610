"""The safety report: is a multi-task model worse than single-task learning, task by task?"""

import numpy as np

from smtl_keras.utils.text import format_table

BASELINE = "stl"

RULE = (
    "Negative sharing (flag 'WORSE'): the task's mean test {metric} is worse than "
    "STL's by more than the larger of the two standard deviations over {seeds} "
    "seed(s){single}. Change vs STL: delta_t = s_t * (M_t - M_STL,t) / M_STL,t "
    "with s_t = +1 where higher is better, -1 where lower is better; "
    "Delta_m = mean of delta_t over tasks."
)


def task_logs(logs, task_names, prefix=""):
    """Splits Keras logs into `{task: {metric: value}}`.

    Multi-output models log `<task>_<metric>`; a single-output model logs
    `<metric>` alone, which is then given to its only task.
    """
    task_names = list(task_names)
    logs = {key[len(prefix):]: value for key, value in logs.items() if key.startswith(prefix)}
    if len(task_names) == 1:
        return {task_names[0]: {k: float(v) for k, v in logs.items() if not k.startswith("gate_")}}
    found = {name: {} for name in task_names}
    # Longest names first, so that a task "a_b" is not read as task "a".
    for name in sorted(task_names, key=len, reverse=True):
        for key in list(logs):
            if key.startswith(name + "_"):
                found[name][key[len(name) + 1 :]] = float(logs.pop(key))
    return found


def relative_change(value, baseline, higher_is_better):
    """delta = s * (value - baseline) / baseline, as a fraction."""
    if baseline == 0:
        return float("nan")
    sign = 1.0 if higher_is_better else -1.0
    return sign * (value - baseline) / abs(baseline)


def _mean_std(values):
    values = np.asarray(values, dtype="float64")
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def summarize(runs, tasks, baseline=BASELINE):
    """Aggregates runs over seeds and compares every architecture with STL.

    Args:
        runs: List of dicts with `architecture`, `seed`, `test` (`{task:
            safety-metric value}`) and optionally `gates`, `params`,
            `pruned_params`.
        tasks: The `smtl_keras.Task`s (their `safety_metric` and direction).
        baseline: The architecture the others are compared with.

    Returns:
        Dict `{architecture: summary}`; each summary has per-task `mean`,
        `std`, `delta` (change vs STL as a fraction), `delta_std` (over seeds),
        `worse` (the negative-sharing flag), plus `delta_m`, `delta_m_std`,
        `negative_tasks`, `params`, `pruned_params`, `gates`, `routes` (how
        many seeds ended on each `SafeSharing` route, per task) and `seeds`.
    """
    by_arch = {}
    for run in runs:
        by_arch.setdefault(run["architecture"], []).append(run)
    if baseline not in by_arch:
        raise ValueError(
            f"The safety report compares with {baseline!r}, which has no runs. "
            f"Architectures with runs: {sorted(by_arch)}"
        )
    base = {
        t.name: _mean_std([r["test"][t.name] for r in by_arch[baseline]]) for t in tasks
    }
    summary = {}
    for arch, arch_runs in by_arch.items():
        entry = {"seeds": sorted(r["seed"] for r in arch_runs), "tasks": {}}
        per_seed_deltas = []
        for run in arch_runs:
            per_seed_deltas.append([
                relative_change(run["test"][t.name], base[t.name][0], t.higher_is_better)
                for t in tasks
            ])
        per_seed_deltas = np.asarray(per_seed_deltas)
        for index, task in enumerate(tasks):
            mean, std = _mean_std([r["test"][task.name] for r in arch_runs])
            base_mean, base_std = base[task.name]
            delta = relative_change(mean, base_mean, task.higher_is_better)
            worse = (
                arch != baseline
                and delta < 0
                and abs(mean - base_mean) > max(std, base_std)
            )
            entry["tasks"][task.name] = {
                "metric": task.safety_metric,
                "higher_is_better": task.higher_is_better,
                "mean": mean,
                "std": std,
                "delta": delta,
                "delta_std": _mean_std(per_seed_deltas[:, index])[1],
                "worse": bool(worse),
            }
        deltas = [entry["tasks"][t.name]["delta"] for t in tasks]
        entry["delta_m"] = float(np.mean(deltas))
        entry["delta_m_std"] = _mean_std(per_seed_deltas.mean(axis=1))[1]
        entry["negative_tasks"] = [t.name for t in tasks if entry["tasks"][t.name]["worse"]]
        entry["params"] = int(np.mean([r.get("params", 0) for r in arch_runs]))
        pruned = [r["pruned_params"] for r in arch_runs if r.get("pruned_params") is not None]
        entry["pruned_params"] = int(np.mean(pruned)) if pruned else None
        entry["routes"] = {}
        for run in arch_runs:
            for task, route in (run.get("routes") or {}).items():
                counts = entry["routes"].setdefault(task, {})
                counts[route] = counts.get(route, 0) + 1
        gates = [r["gates"] for r in arch_runs if r.get("gates")]
        entry["gates"] = (
            {t.name: _mean_std([g[t.name] for g in gates]) for t in tasks} if gates else {}
        )
        summary[arch] = entry
    return summary


def rule_text(tasks, seeds):
    metrics = sorted({t.safety_metric for t in tasks})
    return RULE.format(
        metric="/".join(metrics),
        seeds=seeds,
        single=" (with one seed both deviations are 0, so any worse mean is flagged)"
        if seeds == 1 else "",
    )


def _percent(value, std=None):
    if value is None or np.isnan(value):
        return "n/a"
    text = f"{100 * value:+.1f}%"
    return text if std is None else f"{text} ± {100 * std:.1f}%"


def format_report(summary, tasks, architectures=None, title=None):
    """The safety report as text: a per-task table, a per-architecture table, the rule."""
    architectures = [a for a in (architectures or summary) if a in summary]
    seeds = max(len(summary[a]["seeds"]) for a in architectures)
    rows = [("task", "architecture", "test metric (mean ± std)", "change vs STL", "negative sharing")]
    for task in tasks:
        direction = "higher is better" if task.higher_is_better else "lower is better"
        for arch in architectures:
            t = summary[arch]["tasks"][task.name]
            rows.append((
                task.name,
                arch,
                f"{t['metric']} {t['mean']:.4f} ± {t['std']:.4f} ({direction})",
                "baseline" if arch == BASELINE else _percent(t["delta"], t["delta_std"]),
                "WORSE" if t["worse"] else ("" if arch == BASELINE else "no"),
            ))
    arch_rows = [("architecture", "Delta_m vs STL", "tasks worse than STL", "parameters", "gates: private weight per task")]
    for arch in architectures:
        entry = summary[arch]
        params = f"{entry['params']:,}"
        if entry["pruned_params"] is not None:
            params += f" (pruned: {entry['pruned_params']:,})"
        gates = " ".join(f"{name}={mean:.2f}" for name, (mean, _) in entry["gates"].items())
        arch_rows.append((
            arch,
            "baseline" if arch == BASELINE else _percent(entry["delta_m"], entry["delta_m_std"]),
            "-" if arch == BASELINE else (
                f"{len(entry['negative_tasks'])}/{len(tasks)}"
                + (f" ({', '.join(entry['negative_tasks'])})" if entry["negative_tasks"] else "")
            ),
            params,
            gates or "-",
        ))
    route_lines = []
    for arch in architectures:
        routes = summary[arch].get("routes") or {}
        if routes:
            route_lines.append(f"  {arch}: " + "; ".join(
                f"{task} " + ", ".join(f"{name} x{count}" for name, count in sorted(counts.items()))
                for task, counts in routes.items()
            ))
    parts = []
    if title:
        parts += [title, ""]
    parts += [format_table(rows), "", format_table(arch_rows)]
    if route_lines:
        parts += ["", "Routes chosen by SafeSharing on validation (seeds per route):"] + route_lines
    parts += ["", rule_text(tasks, seeds)]
    return "\n".join(parts)
