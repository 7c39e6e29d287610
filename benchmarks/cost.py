"""Training cost against its floor: throughput, FLOPs, parameters and build time as T grows.

For T tasks, every architecture trains on the same synthetic data with the same
encoder and head design; STL trains its T models one after the other. The
architectures are timed side by side in one process, round-robin, and each
architecture's training time is reported over STL's next to its FLOP ratio
over STL's (the cost it must pay: SMTL runs T+1 encoders where STL runs T), so
the gap between what it costs and what it must cost is visible.

    python benchmarks/cost.py             # full: T = 2, 4, 8, 16, with and without XLA
    python benchmarks/cost.py --quick     # smoke run
"""

import argparse
import os
import statistics
import sys
import time

from common import save_figure
from common import table
from common import write_results

ARCHITECTURES = ("stl", "hps", "smtl", "lite", "smtl_decoder", "lite_decoder")
# Trained with the safe recipe's callback, which measures three routes on a
# validation set (a quarter of the training set's size) after every epoch.
SAFE = ("smtl", "lite")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tasks", default="2,4,8,16", help="comma-separated task counts")
    parser.add_argument("--examples", type=int, default=8192)
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--input_dim", type=int, default=64)
    parser.add_argument("--encoder_units", default="256,256")
    parser.add_argument("--head_units", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="round-robin repeats; the median is kept")
    parser.add_argument("--jit", default="off,on", help="which of off,on to measure")
    parser.add_argument("--output_dir", default=os.path.join("benchmarks", "results", "cost"))
    args = parser.parse_args(argv)
    if args.quick:
        args.tasks, args.examples, args.encoder_units, args.epochs, args.repeats = "2,4", 1024, "32", 1, 1
        args.jit = "off"
    args.tasks = [int(t) for t in args.tasks.split(",")]
    args.encoder_units = [int(u) for u in args.encoder_units.split(",")]
    args.jit = [j == "on" for j in args.jit.split(",")]
    return args


def design(args):
    import keras

    def encoder(name):
        return keras.Sequential(
            [keras.layers.Dense(u, activation="relu") for u in args.encoder_units], name=name
        )

    def head(name):
        return keras.Sequential(
            [keras.layers.Dense(args.head_units, activation="relu"), keras.layers.Dense(1)], name=name
        )

    return encoder, head


def dense_flops(model):
    """Multiply-adds x 2 of every Dense layer of one forward pass, per example."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += dense_flops(layer)
        elif isinstance(layer, keras.layers.Dense):
            kernel = layer.kernel
            total += 2 * int(kernel.shape[0]) * int(kernel.shape[1])
    return total


def build(architecture, tasks, args, jit):
    import keras

    import smtl_keras

    encoder, head = design(args)
    task_list = [smtl_keras.Task(f"t{i}", head=head, loss="mse") for i in range(tasks)]
    started = time.perf_counter()
    built = smtl_keras.build_model(
        architecture, keras.Input((args.input_dim,), name="features"), encoder, task_list,
        optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit, seed=0,
    )
    seconds = time.perf_counter() - started
    models = list(built.values()) if isinstance(built, dict) else [built]
    for model in models:
        # Keras turns XLA off without a word in some cases (e.g. op determinism on).
        if model.jit_compile is not jit:
            raise RuntimeError(f"{model.name}: asked for jit_compile={jit}, Keras set {model.jit_compile}")
    return models, seconds


def data(tasks, args, count=None, seed=0):
    import numpy as np
    import tensorflow as tf

    count = count or args.examples
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, args.input_dim)).astype("float32")
    y = {f"t{i}": rng.normal(size=(count, 1)).astype("float32") for i in range(tasks)}
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(args.batch_size).cache()


def time_training(models, dataset, epochs, validation=None):
    import smtl_keras

    seconds = 0.0
    for model in models:
        names = list(model.output)
        subset = dataset.map(lambda x, y: (x, {n: y[n] for n in names}))

        # One callback for both fits: its route model is built and traced in
        # the warm-up, like the train step, so the timed fit measures epochs.
        callbacks = [] if validation is None else [smtl_keras.SafeSharing(validation, patience=10**6)]
        model.fit(subset, epochs=1, verbose=0, callbacks=callbacks)  # trace and warm up
        started = time.perf_counter()
        model.fit(subset, epochs=epochs, verbose=0, callbacks=callbacks)
        seconds += time.perf_counter() - started
    return seconds


def measure(args):
    import keras

    rows = []
    for jit in args.jit:
        for tasks in args.tasks:
            dataset = data(tasks, args)
            validation = data(tasks, args, count=args.examples // 4, seed=1)
            built = {}
            for arch in ARCHITECTURES:
                keras.utils.set_random_seed(0)
                built[arch] = build(arch, tasks, args, jit)
            for arch in SAFE:
                keras.utils.set_random_seed(0)
                built[f"{arch}+SafeSharing"] = build(arch, tasks, args, jit)
            times = {name: [] for name in built}
            for _ in range(args.repeats):
                for name in built:
                    arch, _, safe = name.partition("+")
                    times[name].append(time_training(
                        built[name][0], dataset, args.epochs, validation if safe else None))
            stl_time = statistics.median(times["stl"])
            stl_flops = sum(dense_flops(m) for m in built["stl"][0])
            for arch in built:
                models, build_seconds = built[arch]
                seconds = statistics.median(times[arch])
                flops = sum(dense_flops(m) for m in models)
                rows.append({
                    "jit_compile": jit, "tasks": tasks, "architecture": arch,
                    "examples_per_second": args.examples * args.epochs / seconds,
                    "time_over_stl": seconds / stl_time, "flops_over_stl": flops / stl_flops,
                    "forward_flops_per_example": flops,
                    "params": sum(m.count_params() for m in models),
                    "build_seconds": build_seconds,
                })
            print(f"measured T={tasks} jit={'on' if jit else 'off'}", flush=True)
            keras.backend.clear_session()
    return rows


def write_figure(path, rows):
    """Time over STL's and FLOPs over STL's against T, one panel per XLA setting."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return False

    settings = sorted({r["jit_compile"] for r in rows})
    figure = Figure(figsize=(6.5 * len(settings), 4.5))
    axes = figure.subplots(1, len(settings), squeeze=False)[0]
    for axis, jit in zip(axes, settings):
        for arch in dict.fromkeys(r["architecture"] for r in rows):
            if arch == "stl":
                continue
            points = sorted((r["tasks"], r["time_over_stl"], r["flops_over_stl"])
                            for r in rows if r["architecture"] == arch and r["jit_compile"] == jit)
            tasks = [p[0] for p in points]
            line, = axis.plot(tasks, [p[1] for p in points], marker="o", label=f"{arch}: time")
            if "+" not in arch:
                axis.plot(tasks, [p[2] for p in points], linestyle=":", color=line.get_color(),
                          label=f"{arch}: FLOPs")
        axis.axhline(1.0, color="black", linewidth=0.8)
        axis.set_xscale("log", base=2)
        axis.set_xlabel("tasks T")
        axis.set_ylabel("over STL (all T models)")
        axis.set_title(f"Training cost against STL, XLA {'on' if jit else 'off'}")
        axis.legend(fontsize=6, ncol=2)
    return save_figure(figure, path)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from smtl_keras.utils.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    rows = measure(args)
    header = ["XLA", "T", "architecture", "examples/s", "time / STL", "FLOPs / STL", "gap", "params", "build s"]
    lines = [header]
    for r in rows:
        lines.append([
            "on" if r["jit_compile"] else "off", r["tasks"], r["architecture"],
            f"{r['examples_per_second']:,.0f}", f"{r['time_over_stl']:.2f}", f"{r['flops_over_stl']:.2f}",
            f"{r['time_over_stl'] / r['flops_over_stl']:.2f}", f"{r['params']:,}", f"{r['build_seconds']:.2f}",
        ])
    text = (
        f"Training throughput, encoder Dense{args.encoder_units} on {args.input_dim} inputs, head "
        f"Dense[{args.head_units}, 1], batch {args.batch_size}, {args.examples} examples, median of "
        f"{args.repeats} round-robin repeats of {args.epochs} epoch(s). STL trains its T models in turn.\n"
        "time / STL: training time over STL's; FLOPs / STL: forward FLOPs over STL's (what the "
        "architecture must cost); gap = (time / STL) / (FLOPs / STL), 1.00 means it costs exactly "
        "its FLOPs. '+SafeSharing' rows add the safe recipe's callback (one validation pass over "
        "three routes per epoch, validation set a quarter of the training set); their FLOPs "
        "column counts training only.\n\n" + table(lines)
    )
    write_results(args.output_dir, "cost", text, rows, args)
    if write_figure(os.path.join(args.output_dir, "cost.png"), rows):
        print(f"Figure: {os.path.join(args.output_dir, 'cost.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
