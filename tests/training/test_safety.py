import pytest
from testing_utils import classification_task
from testing_utils import regression_task

from smtl_keras.training.safety import format_report
from smtl_keras.training.safety import relative_change
from smtl_keras.training.safety import summarize
from smtl_keras.training.safety import task_logs

TASKS = [regression_task("a"), classification_task("b")]  # mae (lower), accuracy (higher)


def _runs(arch, a_values, b_values, **extra):
    return [
        {"architecture": arch, "seed": s, "test": {"a": a, "b": b}, "params": 10, **extra}
        for s, (a, b) in enumerate(zip(a_values, b_values))
    ]


def test_relative_change_signs():
    assert relative_change(0.8, 1.0, higher_is_better=False) == pytest.approx(0.2)
    assert relative_change(1.2, 1.0, higher_is_better=False) == pytest.approx(-0.2)
    assert relative_change(0.9, 0.75, higher_is_better=True) == pytest.approx(0.2)


def test_summary_flags_only_differences_beyond_noise():
    runs = (
        _runs("stl", [1.0, 1.2, 1.1], [0.80, 0.82, 0.78])
        + _runs("hps", [1.5, 1.6, 1.55], [0.81, 0.79, 0.80])      # a clearly worse
        + _runs("smtl", [1.15, 1.05, 1.25], [0.70, 0.90, 0.80],    # worse means, within noise
                gates={"a": 0.9, "b": 0.3})
    )
    summary = summarize(runs, TASKS)
    assert summary["stl"]["tasks"]["a"]["mean"] == pytest.approx(1.1)
    hps = summary["hps"]["tasks"]
    assert hps["a"]["delta"] == pytest.approx(-(1.55 - 1.1) / 1.1)
    assert hps["a"]["worse"] and not hps["b"]["worse"]
    assert summary["hps"]["negative_tasks"] == ["a"]
    assert summary["hps"]["delta_m"] == pytest.approx((hps["a"]["delta"] + hps["b"]["delta"]) / 2)
    smtl = summary["smtl"]
    assert smtl["tasks"]["a"]["delta"] < 0 and not smtl["tasks"]["a"]["worse"]
    assert smtl["negative_tasks"] == []
    assert smtl["gates"]["a"][0] == pytest.approx(0.9)
    assert not any(t["worse"] for t in summary["stl"]["tasks"].values())


def test_single_seed_flags_any_worse_mean():
    runs = _runs("stl", [1.0], [0.8]) + _runs("hps", [1.01], [0.81])
    summary = summarize(runs, TASKS)
    assert summary["hps"]["negative_tasks"] == ["a"]


def test_report_states_the_rule_and_the_flags():
    runs = _runs("stl", [1.0, 1.1], [0.8, 0.8]) + _runs("hps", [2.0, 2.1], [0.8, 0.8], pruned_params=4)
    text = format_report(summarize(runs, TASKS), TASKS, title="T")
    assert text.startswith("T\n")
    assert "WORSE" in text and "1/2 (a)" in text
    assert "larger of the two standard deviations over 2 seed(s)" in text
    assert "(pruned: 4)" in text


def test_summary_needs_stl():
    with pytest.raises(ValueError, match=r"compares with 'stl', which has no runs. Architectures with runs: \['hps'\]"):
        summarize(_runs("hps", [1.0], [0.5]), TASKS)


def test_task_logs_splits_prefixes():
    logs = {"loss": 1.0, "a_loss": 0.5, "a_b_loss": 0.25, "a_b_mae": 0.1, "a_mae": 0.2}
    assert task_logs(logs, ["a", "a_b"]) == {
        "a": {"loss": 0.5, "mae": 0.2}, "a_b": {"loss": 0.25, "mae": 0.1}
    }
    assert task_logs({"loss": 1.0, "mae": 0.3}, ["a"]) == {"a": {"loss": 1.0, "mae": 0.3}}
