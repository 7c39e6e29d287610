"""smtl-train: train every architecture under one protocol and report safety per task.

Example:

    smtl-train --dataset=synthetic --correlation=0.0 --seeds=3 --output_dir=runs/syn

Finished runs in --output_dir are skipped and an interrupted one resumes from
its last completed epoch: run the same command again after a kill.
"""

import os
import sys

from absl import app
from absl import flags

from smtl_keras.defaults import DATASET_NAMES
from smtl_keras.defaults import DEFAULT_ARCHITECTURES

FLAGS = flags.FLAGS

flags.DEFINE_enum("dataset", "synthetic", DATASET_NAMES, "Dataset. 'synthetic' and 'digits' are offline; the others come from tensorflow-datasets.")
flags.DEFINE_list("architectures", list(DEFAULT_ARCHITECTURES), "Architectures to compare (comma separated); 'stl' is always trained, as the baseline.")
flags.DEFINE_integer("epochs", 200, "Epoch budget of every model (early stopping usually ends training first).", lower_bound=1)
flags.DEFINE_integer("batch_size", 64, "Batch size of every model.", lower_bound=1)
flags.DEFINE_float("learning_rate", 1e-3, "Adam learning rate (positive).")
flags.DEFINE_integer("seeds", 3, "Number of seeds (0..seeds-1) per architecture.", lower_bound=1)
flags.DEFINE_integer("patience", 10, "Early-stopping patience in epochs on the validation loss; 0 trains the whole budget.", lower_bound=0)
flags.DEFINE_string("output_dir", "smtl_runs", "Folder for runs, results.json, results.csv, report.txt, safety.png and exports.")
flags.DEFINE_boolean("export", False, "Export each multi-task model of seed 0 (and the pruned lite models) for TF Serving into <output_dir>/export/.")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored"], "'mirrored' builds and trains under tf.distribute.MirroredStrategy over all local devices.")
flags.DEFINE_enum("distribution", "none", ["none", "data_parallel"], "JAX backend (KERAS_BACKEND=jax): 'data_parallel' trains with keras.distribution.DataParallel over all devices of all processes.")
flags.DEFINE_string("coordinator_address", None, "data_parallel over several processes (hosts): host:port of process 0.")
flags.DEFINE_integer("num_processes", 1, "data_parallel: number of processes (hosts).", lower_bound=1)
flags.DEFINE_integer("process_id", 0, "data_parallel: this process's id, 0..num_processes-1; process 0 writes the results and exports.", lower_bound=0)
flags.DEFINE_integer("num_cpu_devices", 0, "Split the CPU into this many logical devices (e.g. 2, to try --strategy=mirrored on a CPU machine).", lower_bound=0)
flags.DEFINE_string("data_dir", None, "tensorflow-datasets data folder holding prepared datasets.")
flags.DEFINE_boolean("download", False, "Let tensorflow-datasets download and prepare a dataset that is missing (needs network).")
flags.DEFINE_boolean("jit_compile", False, "Compile the train step with XLA.")
flags.DEFINE_boolean("deterministic", True, "Deterministic TensorFlow ops (repeatable runs and exact resumes). Off under --jit_compile, because Keras turns XLA off while op determinism is on.")
flags.DEFINE_boolean("safe_sharing", True, "Train the gated architectures with SafeSharing: each task's route (learned gate, public path or private path) is chosen on the validation split, which also does the early stopping. --nosafe_sharing --path_dropout=0 is the paper's training.")
flags.DEFINE_float("path_dropout", None, "Gated architectures: probability that a training example goes through one path only, so that both paths stay usable on their own (default: 0.5 for smtl and smtl_decoder, 1.0 for lite and lite_decoder).", lower_bound=0.0, upper_bound=1.0)
flags.DEFINE_float("path_loss", 0.0, "Gated architectures: weight of every path's own loss, added to the training loss so that each path also learns alone on every example (measured in BENCHMARKS.md; 0 trains the gate outputs only).", lower_bound=0.0)
flags.DEFINE_float("logit_scale", 1.0, "Gated architectures: the gate logits are this times their parameters (a learning-rate multiplier for the gates).", lower_bound=1e-6)
flags.DEFINE_enum("gate", "softmax", ["softmax", "sigmoid"], "Soft gate parameterisation of smtl and smtl_decoder.")
flags.DEFINE_float("temperature", 0.1, "Gumbel-softmax temperature of lite and lite_decoder.", lower_bound=1e-6)
flags.DEFINE_integer("data_seed", 0, "Seed of the data (synthetic tasks, digit pairs); model seeds are 0..seeds-1.")
flags.DEFINE_integer("num_tasks", 2, "synthetic: number of tasks.", lower_bound=1)
flags.DEFINE_float("correlation", 0.5, "synthetic: pairwise correlation of the tasks, in [-1, 1].", lower_bound=-1.0, upper_bound=1.0)
flags.DEFINE_integer("num_examples", 2000, "synthetic: examples over all splits (half train, a quarter validation, a quarter test).", lower_bound=8)
flags.DEFINE_list("attributes", None, "celeb_a: attribute tasks (default: Smiling,Male,Young,Eyeglasses,Wearing_Hat,Bald), or 'all'.")
flags.DEFINE_list("smallnorb_tasks", None, "smallnorb: tasks among category,elevation,azimuth,lighting (default: all four).")
flags.DEFINE_integer("limit", None, "tfds datasets: use at most this many examples per split.", lower_bound=1)
flags.DEFINE_integer("verbose", 2, "Keras fit verbosity: 0 silent, 1 progress bar, 2 one line per epoch.", lower_bound=0, upper_bound=2)


flags.register_validator("learning_rate", lambda value: value > 0, message="--learning_rate must be positive")


def _dataset_options():
    options = {
        "batch_size": FLAGS.batch_size,
        "seed": FLAGS.data_seed,
        "data_dir": FLAGS.data_dir,
        "download": FLAGS.download,
        "limit": FLAGS.limit,
    }
    if FLAGS.dataset == "synthetic":
        options.update(num_tasks=FLAGS.num_tasks, correlation=FLAGS.correlation, num_examples=FLAGS.num_examples)
    if FLAGS.dataset == "celeb_a" and FLAGS.attributes:
        options["attributes"] = "all" if FLAGS.attributes == ["all"] else FLAGS.attributes
    if FLAGS.dataset == "smallnorb" and FLAGS.smallnorb_tasks:
        options["tasks"] = FLAGS.smallnorb_tasks
    return options


def _deterministic(backend):
    """Whether to turn on TensorFlow's op determinism for this run.

    Keras silently turns XLA off while op determinism is on, so --jit_compile
    runs without it (and asking for both is an error).
    """
    if not FLAGS.jit_compile or backend != "tensorflow":
        return FLAGS.deterministic
    if FLAGS["deterministic"].present and FLAGS.deterministic:
        raise ValueError(
            "--jit_compile and --deterministic cannot be combined on TensorFlow: Keras "
            "turns XLA off while op determinism is on. Drop one of the two."
        )
    return False


def _settings(deterministic):
    names = [
        "dataset", "architectures", "epochs", "batch_size", "learning_rate", "seeds",
        "patience", "strategy", "jit_compile", "deterministic", "gate", "temperature",
        "safe_sharing", "path_dropout", "path_loss", "logit_scale", "distribution", "num_processes",
        "data_seed", "num_tasks", "correlation", "num_examples", "attributes",
        "smallnorb_tasks", "limit", "data_dir", "export",
    ]
    settings = {name: getattr(FLAGS, name) for name in names}
    settings["deterministic"] = deterministic  # what the run used, not only the flag
    return settings


def run():
    from smtl_keras.utils.quiet import import_tensorflow_quietly

    tf = import_tensorflow_quietly(FLAGS.num_cpu_devices)
    from smtl_keras.data import load_dataset
    from smtl_keras.training.compare import run_comparison
    from smtl_keras.training.protocol import Protocol

    import keras

    deterministic = _deterministic(keras.backend.backend())
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    strategy = None
    output_dir, export = FLAGS.output_dir, FLAGS.export
    data = None
    if FLAGS.strategy == "mirrored" and keras.backend.backend() != "tensorflow":
        raise ValueError(
            "--strategy=mirrored needs the TensorFlow backend; on JAX use "
            f"--distribution=data_parallel. Backend: {keras.backend.backend()!r}"
        )
    if FLAGS.distribution == "data_parallel":
        from smtl_keras.training.distributed import start_data_parallel

        if FLAGS.strategy != "default":
            raise ValueError("--distribution=data_parallel and --strategy=mirrored exclude each other")
        info = start_data_parallel(FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id)
        print(
            f"DataParallel over {len(info.devices)} device(s) in {info.num_processes} process(es); "
            f"this is process {info.process_id}", flush=True,
        )
        if FLAGS.batch_size % len(info.devices):
            raise ValueError(
                f"--batch_size={FLAGS.batch_size} must be a multiple of the {len(info.devices)} "
                "devices, which share every batch"
            )
        if not info.is_chief:
            # Every process runs the same training; only process 0 keeps the results.
            output_dir = os.path.join(FLAGS.output_dir, f"process_{info.process_id}")
            export = False
        data = load_dataset(FLAGS.dataset, **_dataset_options())
        if info.num_processes > 1:
            data.full_batches_only()
    if FLAGS.strategy == "mirrored":
        if FLAGS.jit_compile and not tf.config.list_physical_devices("GPU"):
            raise ValueError(
                "--jit_compile with --strategy=mirrored needs GPUs; XLA cannot "
                "run one program over several CPU devices. Drop --jit_compile."
            )
        strategy = tf.distribute.MirroredStrategy()
        print(f"MirroredStrategy over {strategy.num_replicas_in_sync} device(s)", flush=True)
    if data is None:
        data = load_dataset(FLAGS.dataset, **_dataset_options())
    print(f"Dataset {data.name}: {data.description}; examples {data.sizes}; tasks {data.task_names}", flush=True)
    protocol = Protocol(
        epochs=FLAGS.epochs,
        learning_rate=FLAGS.learning_rate,
        patience=FLAGS.patience or None,
        jit_compile=FLAGS.jit_compile,
        gate=FLAGS.gate,
        temperature=FLAGS.temperature,
        logit_scale=FLAGS.logit_scale,
        path_dropout=FLAGS.path_dropout,
        path_loss=FLAGS.path_loss,
        safe_sharing=FLAGS.safe_sharing,
    )
    return run_comparison(
        data,
        architectures=FLAGS.architectures,
        seeds=FLAGS.seeds,
        protocol=protocol,
        output_dir=output_dir,
        export=export,
        strategy=strategy,
        verbose=FLAGS.verbose,
        log=lambda line: print(line, flush=True),
        settings=_settings(deterministic),
    )


def main(argv):
    if len(argv) > 1:
        print(f"smtl-train: error: unexpected arguments {argv[1:]}; flags take the form --name=value", file=sys.stderr)
        return 2
    from smtl_keras.data.base import DatasetNotAvailableError

    try:
        run()
    except (ValueError, DatasetNotAvailableError, ImportError, OSError) as error:
        message = " ".join(str(error).split())
        print(f"smtl-train: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "smtl-train: interrupted; run the same command again to resume "
            "from the last completed epoch",
            file=sys.stderr,
        )
        return 130
    return 0


def cli():
    """Console-script entry point."""
    app.run(main)


if __name__ == "__main__":
    cli()
