"""The benchmark scripts' quick modes run and write what they promise."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def _run(script, output_dir):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", script), "--quick", f"--output_dir={output_dir}"],
        capture_output=True, text=True, env=ENV, timeout=600, cwd=ROOT,
    )


def test_safety_quick(tmp_path):
    result = _run("safety.py", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "negative-sharing cases" in result.stdout and "Poisoned-task probe" in result.stdout
    summary = json.loads((tmp_path / "safety.json").read_text())
    assert set(summary["negative_sharing_cases"]) == {"hps", "smtl", "lite"}
    for arch, cases in summary["negative_sharing_cases"].items():
        assert cases["pairs"] == 2 and 0 <= cases["worse"] <= 2
    assert summary["probe"]["stl"]["ratio"] == pytest.approx(1.0)
    per_seed = summary["probe_per_seed"]
    assert per_seed["stl"]["private_validation_ratio"] == pytest.approx(1.0)
    assert per_seed["smtl"]["routes"][0] in ("learned", "public", "private")
    assert len(per_seed["lite"]["test"]) == 1
    assert set(summary["targets"]) == {"smtl", "lite"}
    assert "Safety targets" in result.stdout
    assert summary["environment"]["keras"]
    assert (tmp_path / "safety.png").exists() and (tmp_path / "report_poisoned.txt").exists()


def test_cost_quick(tmp_path):
    result = _run("cost.py", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads((tmp_path / "cost.json").read_text())["rows"]
    assert {(r["tasks"], r["architecture"]) for r in rows} >= {(2, "stl"), (4, "smtl_decoder")}
    by = {(r["tasks"], r["architecture"]): r for r in rows}
    for tasks in (2, 4):
        assert by[(tasks, "stl")]["time_over_stl"] == 1.0
        # What each architecture must cost: SMTL runs T+1 encoders where STL runs T.
        assert by[(tasks, "smtl")]["flops_over_stl"] > 1.0 > by[(tasks, "hps")]["flops_over_stl"]
        assert by[(tasks, "smtl")]["params"] > by[(tasks, "stl")]["params"] > by[(tasks, "hps")]["params"]
        assert all(r["examples_per_second"] > 0 for r in rows)


def test_inference_quick(tmp_path):
    result = _run("inference.py", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (row,) = json.loads((tmp_path / "inference.json").read_text())["rows"]
    assert row["max_abs_difference"] <= 1e-6
    assert row["pruned_params"] < row["full_params"]
    assert row["pruned_bytes"] < row["full_bytes"]
    assert set(row["latency_ms"]) == {"1", "64"}


def test_stl_against_itself_counts_every_pair_of_seed_groups():
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    try:
        import safety
    finally:
        sys.path.pop(0)
    runs = [{"architecture": "stl", "seed": i, "test": {"y1": v}} for i, v in enumerate([1, 1, 1, 1, 1, 2])]
    runs.append({"architecture": "smtl", "seed": 0, "test": {"y1": 100.0}})
    found = safety.stl_against_itself({"runs": runs})
    # Six seeds: only groups of 3. The seed with MSE 2 is in the first group
    # (ratio 3/4) or in the second (4/3) of 20 ordered pairs, 10 each.
    assert list(found) == [3]
    assert found[3]["pairs"] == 20
    assert found[3]["min"] == pytest.approx(0.75)
    assert found[3]["max"] == pytest.approx(4 / 3)
    assert found[3]["share_above_limit"] == pytest.approx(0.5)


@pytest.mark.parametrize("flags, message", [
    (["--config=paper", "--path_loss=1"], "--path_loss must be >= 0 and goes with --config=default"),
    (["--path_loss=-1"], "--path_loss must be >= 0 and goes with --config=default"),
    (["--probe_seeds=0"], "--seeds, --probe_seeds and --epochs must be positive"),
])
def test_safety_refuses_bad_flags(tmp_path, flags, message):
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "safety.py"), *flags, f"--output_dir={tmp_path}"],
        capture_output=True, text=True, env=ENV, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert not os.listdir(tmp_path)


def test_safety_refuses_path_dropout_outside_the_default_config(tmp_path):
    for flags in (["--config=paper", "--path_dropout=0.5"], ["--path_dropout=1.5"]):
        result = subprocess.run(
            [sys.executable, os.path.join(ROOT, "benchmarks", "safety.py"), *flags, f"--output_dir={tmp_path}"],
            capture_output=True, text=True, env=ENV, timeout=300, cwd=ROOT,
        )
        assert result.returncode == 2, flags
        assert "--path_dropout must lie in [0, 1] and goes with --config=default" in result.stderr
        assert not os.listdir(tmp_path)
