"""L-SMTL inference: the full lite model against the pruned one, as TF Serving loads them.

Trains a lite model on the synthetic tasks (the safe recipe: default path
dropout and `SafeSharing`, which picks each task's encoder), prunes it with
`smtl_keras.prune_lite`, exports both with `export_for_serving`, loads both
SavedModels and reports parameters, bytes on disk, and latency per batch
(median and 95th percentile at batch 1 and 64, the two models timed
alternately in one process) and the largest difference between their
predictions.

    python benchmarks/inference.py            # full: T = 2, 4, 8
    python benchmarks/inference.py --quick    # smoke run
"""

import argparse
import os
import sys
import tempfile
import time

from common import write_results
from common import table


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tasks", default="2,4,8")
    parser.add_argument("--correlation", type=float, default=0.0)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--calls", type=int, default=300, help="timed calls per model and batch size")
    parser.add_argument("--batch_sizes", default="1,64")
    parser.add_argument("--output_dir", default=os.path.join("benchmarks", "results", "inference"))
    args = parser.parse_args(argv)
    if args.quick:
        args.tasks, args.epochs, args.calls = "2", 2, 20
    args.tasks = [int(t) for t in args.tasks.split(",")]
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    return args


def folder_bytes(path):
    return sum(
        os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path) for name in names
    )


def latencies(signature, batch, calls):
    import numpy as np
    import tensorflow as tf

    tensor = tf.constant(batch)
    for _ in range(10):
        signature(features=tensor)
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        signature(features=tensor)
        samples.append(time.perf_counter() - started)
    samples = np.asarray(samples) * 1000.0
    return float(np.median(samples)), float(np.percentile(samples, 95))


def measure(tasks, args, workdir):
    import keras
    import numpy as np
    import tensorflow as tf

    import smtl_keras

    keras.utils.set_random_seed(0)
    data = smtl_keras.load_dataset("synthetic", num_tasks=tasks, correlation=args.correlation, seed=0)
    model = smtl_keras.build_smtl_model(
        data.inputs(), data.encoder, data.tasks, variant="lite", seed=0,
        optimizer=keras.optimizers.Adam(1e-3),
    )
    model.fit(data.train, epochs=args.epochs, verbose=0,
              callbacks=[smtl_keras.SafeSharing(data.validation, patience=10)])
    pruned = smtl_keras.prune_lite(model)
    private = [t.name for t in data.tasks if f"{t.name}_private_encoder" in {l.name for l in pruned.layers}]
    full_path = smtl_keras.export_for_serving(model, os.path.join(workdir, f"full_{tasks}"))
    pruned_path = smtl_keras.export_for_serving(pruned, os.path.join(workdir, f"pruned_{tasks}"))
    full_sig = tf.saved_model.load(full_path).signatures["serving_default"]
    pruned_sig = tf.saved_model.load(pruned_path).signatures["serving_default"]

    x = np.concatenate([x.numpy() for x, _ in data.test])
    full_out = full_sig(features=tf.constant(x))
    pruned_out = pruned_sig(features=tf.constant(x))
    difference = max(float(np.abs(full_out[t].numpy() - pruned_out[t].numpy()).max()) for t in data.task_names)

    row = {
        "tasks": tasks, "private_tasks": private, "public_encoder_kept": any(
            l.name == "public_encoder" for l in pruned.layers),
        "full_params": model.count_params(), "pruned_params": pruned.count_params(),
        "full_bytes": folder_bytes(full_path), "pruned_bytes": folder_bytes(pruned_path),
        "max_abs_difference": difference, "latency_ms": {},
    }
    for batch_size in args.batch_sizes:
        batch = x[:batch_size]
        # Alternate the two models so that drift of the machine hits both.
        halves = {"full": [], "pruned": []}
        for _ in range(2):
            halves["full"].append(latencies(full_sig, batch, args.calls // 2))
            halves["pruned"].append(latencies(pruned_sig, batch, args.calls // 2))
        row["latency_ms"][batch_size] = {
            name: {"median": float(np.mean([m for m, _ in v])), "p95": float(np.mean([p for _, p in v]))}
            for name, v in halves.items()
        }
    return row


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from smtl_keras.utils.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for tasks in args.tasks:
            rows.append(measure(tasks, args, workdir))
            print(f"measured T={tasks}", flush=True)
    header = ["T", "private tasks", "params full -> pruned", "SavedModel bytes full -> pruned", "max |diff|"]
    for b in args.batch_sizes:
        header += [f"batch {b} median ms full -> pruned", f"batch {b} p95 ms full -> pruned"]
    lines = [header]
    for r in rows:
        line = [
            r["tasks"], f"{len(r['private_tasks'])}/{r['tasks']}",
            f"{r['full_params']:,} -> {r['pruned_params']:,} ({r['pruned_params'] / r['full_params']:.0%})",
            f"{r['full_bytes']:,} -> {r['pruned_bytes']:,} ({r['pruned_bytes'] / r['full_bytes']:.0%})",
            f"{r['max_abs_difference']:.1e}",
        ]
        for b in args.batch_sizes:
            lat = r["latency_ms"][b]
            line += [
                f"{lat['full']['median']:.3f} -> {lat['pruned']['median']:.3f}",
                f"{lat['full']['p95']:.3f} -> {lat['pruned']['p95']:.3f}",
            ]
        lines.append(line)
    text = (
        "L-SMTL full vs pruned (smtl_keras.prune_lite), both exported with export_for_serving and "
        f"called through the loaded serving_default signature; lite trained with SafeSharing on synthetic tasks at "
        f"correlation {args.correlation}; latency over {args.calls} calls per model and batch size.\n\n"
        + table(lines)
    )
    write_results(args.output_dir, "inference", text, rows, args)
    bad = [r for r in rows if r["max_abs_difference"] > 1e-6]
    if bad:
        print(f"ERROR: pruned predictions differ by more than 1e-6 for T={[r['tasks'] for r in bad]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
