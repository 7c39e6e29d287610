"""smtl-train as a user runs it: the files, the report, bad input, resume, MirroredStrategy."""

import csv
import json
import os
import signal
import subprocess
import sys

import pytest

ENV = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2")
SMALL = ["--num_examples=240", "--batch_size=32", "--verbose=2"]


def _command(*flags):
    return [sys.executable, "-m", "smtl_keras.train", *flags]


def _run(*flags, timeout=600):
    return subprocess.run(_command(*flags), capture_output=True, text=True, env=ENV, timeout=timeout)


def test_small_run_writes_report_files_and_exports(tmp_path):
    out = tmp_path / "out"
    result = _run(*SMALL, "--epochs=3", "--seeds=2", "--architectures=hps,smtl,lite",
                  f"--output_dir={out}", "--export")
    assert result.returncode == 0, result.stderr[-3000:]
    stdout = result.stdout
    assert "[1/8] stl (seed 0)" in stdout and "[8/8] lite (seed 1)" in stdout
    assert "Epoch 1/3" in stdout  # Keras's per-epoch progress
    assert "negative sharing" in stdout and "Delta_m vs STL" in stdout
    assert "larger of the two standard deviations over 2 seed(s)" in stdout
    assert "oneDNN" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr

    results = json.loads((out / "results.json").read_text())
    assert results["architectures"] == ["stl", "hps", "smtl", "lite"]
    assert results["settings"]["epochs"] == 3 and results["versions"]["keras"]
    assert len(results["runs"]) == 8
    for arch in ("hps", "smtl", "lite"):
        entry = results["summary"][arch]
        assert set(entry["tasks"]) == {"y1", "y2"}
        assert isinstance(entry["delta_m"], float)
    assert set(results["summary"]["smtl"]["gates"]) == {"y1", "y2"}
    assert results["summary"]["lite"]["pruned_params"] < results["summary"]["lite"]["params"]
    for run in results["runs"]:
        assert 1 <= max(run["epochs"].values()) <= 3

    with open(out / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 * 2 * 2
    stl_rows = [r for r in rows if r["architecture"] == "stl" and r["task"] == "y1"]
    assert float(stl_rows[0]["stl_mean"]) == pytest.approx(
        sum(float(r["value"]) for r in stl_rows) / 2, rel=1e-5)
    assert (out / "safety.png").stat().st_size > 10_000
    assert (out / "report.txt").read_text().startswith("Safety report: synthetic")
    history = json.loads((out / "runs" / "smtl" / "seed_0" / "history.json").read_text())
    assert len(history["model"]["gate_y1"]) == len(history["model"]["loss"])
    for name in ("hps", "smtl", "lite", "lite_pruned"):
        assert (out / "export" / name / "1" / "saved_model.pb").exists(), name
    assert not (out / "export" / "stl").exists()
    assert not list((out / "runs").glob("*/*/checkpoints"))

    again = _run(*SMALL, "--epochs=3", "--seeds=2", "--architectures=hps,smtl,lite",
                 f"--output_dir={out}")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Epoch 1/3" not in again.stdout  # every run was finished: nothing retrained
    assert json.loads((out / "results.json").read_text())["summary"] == results["summary"]


@pytest.mark.parametrize("flags, message", [
    (["--architectures=stl,mmoe"], "Unknown architecture. Accepted: stl, hps, smtl, lite, smtl_decoder, lite_decoder. Received: 'mmoe'"),
    (["--dataset=multi_mnist", "--data_dir={tmp}/tfds"], "is not prepared in"),
    (["--output_dir={tmp}/file/inside"], "cannot be written"),
])
def test_bad_input_gives_one_line_and_no_results(flags, message, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    flags = [f.format(tmp=tmp_path) for f in flags]
    out = tmp_path / "out"
    if not any(f.startswith("--output_dir") for f in flags):
        flags.append(f"--output_dir={out}")
    result = _run(*flags, "--epochs=1")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("smtl-train: error:")]
    assert len(error_lines) == 1 and message in error_lines[0], result.stderr[-2000:]
    assert not (out / "results.json").exists()


@pytest.mark.parametrize("flags, message", [
    (["--dataset=cifar"], "flag --dataset=cifar: value should be one of"),
    (["--epochs=0"], "flag --epochs=0"),
    (["--batch_size=-4"], "flag --batch_size=-4"),
])
def test_bad_flags_are_refused(flags, message, tmp_path):
    result = _run(*flags, f"--output_dir={tmp_path / 'out'}")
    assert result.returncode != 0 and message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def _results(out):
    results = json.loads((out / "results.json").read_text())
    return {(r["architecture"], r["seed"]): r for r in results["runs"]}


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    flags = [*SMALL, "--epochs=6", "--patience=2", "--seeds=1", "--architectures=smtl,lite"]
    reference = _run(*flags, f"--output_dir={tmp_path / 'reference'}")
    assert reference.returncode == 0, reference.stderr[-3000:]

    out = tmp_path / "resumed"
    process = subprocess.Popen(_command(*flags, f"--output_dir={out}"), stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=ENV)
    seen = []
    for line in process.stdout:
        seen.append(line)
        # Kill in the middle of the third run (lite), after its third epoch.
        if line.startswith("Epoch 4/6") and any(l.startswith("[3/3] lite") for l in seen):
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert (out / "runs" / "lite" / "seed_0" / "checkpoints" / "model" / "state.json").exists()
    assert not (out / "results.json").exists()

    resumed = _run(*flags, f"--output_dir={out}")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Epoch 1/6" not in resumed.stdout.split("[3/3] lite")[1]  # lite continued, not restarted
    expected, got = _results(tmp_path / "reference"), _results(out)
    assert expected.keys() == got.keys()
    for key in expected:
        assert got[key]["epochs"] == expected[key]["epochs"], key
        assert got[key]["best_epoch"] == expected[key]["best_epoch"], key
        for task, value in expected[key]["test"].items():
            assert got[key]["test"][task] == pytest.approx(value, rel=1e-5, abs=1e-7), (key, task)
        for task, value in expected[key]["gates"].items():
            assert got[key]["gates"][task] == pytest.approx(value, rel=1e-5), (key, task)
    history = json.loads((out / "runs" / "lite" / "seed_0" / "history.json").read_text())["model"]
    reference_history = json.loads(
        (tmp_path / "reference" / "runs" / "lite" / "seed_0" / "history.json").read_text())["model"]
    assert history["loss"] == pytest.approx(reference_history["loss"], rel=1e-5)


def test_mirrored_strategy_over_two_cpu_devices_matches_default(tmp_path):
    # Path dropout draws per example, which the replicas split differently:
    # compare without it (the lite gate's draw per batch is the same on both).
    # The paths' own losses are on, so their scaling across replicas is checked too.
    flags = [*SMALL, "--epochs=3", "--patience=0", "--seeds=1", "--architectures=hps,lite",
             "--path_dropout=0", "--path_loss=0.5"]
    default = _run(*flags, f"--output_dir={tmp_path / 'default'}")
    mirrored = _run(*flags, "--strategy=mirrored", "--num_cpu_devices=2",
                    f"--output_dir={tmp_path / 'mirrored'}")
    assert default.returncode == 0, default.stderr[-3000:]
    assert mirrored.returncode == 0, mirrored.stderr[-3000:]
    assert "MirroredStrategy over 2 device(s)" in mirrored.stdout
    for arch, key in (("stl", "y1"), ("hps", "model"), ("lite", "model")):
        a = json.loads((tmp_path / "default" / "runs" / arch / "seed_0" / "history.json").read_text())[key]
        b = json.loads((tmp_path / "mirrored" / "runs" / arch / "seed_0" / "history.json").read_text())[key]
        assert len(a["loss"]) == len(b["loss"]) == 3
        assert b["loss"] == pytest.approx(a["loss"], rel=2e-3), arch
        key = "val_loss" if arch == "stl" else "val_y1_loss"
        assert b[key] == pytest.approx(a[key], rel=2e-3), arch


def test_mirrored_with_jit_on_cpu_is_refused(tmp_path):
    result = _run("--strategy=mirrored", "--num_cpu_devices=2", "--jit_compile",
                  f"--output_dir={tmp_path}")
    assert result.returncode == 2
    assert "--jit_compile with --strategy=mirrored needs GPUs" in result.stderr


def test_jit_compile_runs_xla_without_op_determinism(tmp_path):
    # Keras turns XLA off while op determinism is on: --jit_compile must not be a silent no-op.
    refused = _run("--jit_compile", "--deterministic", f"--output_dir={tmp_path / 'refused'}")
    assert refused.returncode == 2
    assert "--jit_compile and --deterministic cannot be combined" in refused.stderr
    assert not (tmp_path / "refused" / "results.json").exists()
    out = tmp_path / "out"
    result = _run(*SMALL, "--epochs=1", "--seeds=1", "--architectures=smtl", "--jit_compile",
                  f"--output_dir={out}")
    assert result.returncode == 0, result.stderr[-3000:]
    settings = json.loads((out / "settings.json").read_text())
    assert settings["jit_compile"] is True and settings["deterministic"] is False
