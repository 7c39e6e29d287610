"""The Colab notebooks in colab/: committed clean, and they run end to end in smoke mode.

Each notebook is executed in a fresh `python3` kernel with `SMTL_SMOKE=1`
(tiny data, 1-2 epochs, one seed; mock tensorflow-datasets data, so no
network), from a temporary working folder. A failing cell fails the test.
"""

import pathlib
import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

import smtl_keras  # noqa: E402

COLAB = pathlib.Path(__file__).resolve().parents[1] / "colab"
NOTEBOOKS = sorted(COLAB.glob("*.ipynb"))
EXPECTED = ("01_quickstart.ipynb", "02_negative_sharing.ipynb", "03_serving.ipynb", "04_tfds.ipynb")
BADGE = "https://colab.research.google.com/github/smtl-keras/smtl_keras/blob/main/colab/{}"
CELL_TIMEOUT = 300


def _read(path):
    return nbformat.read(str(path), as_version=4)


def _code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_every_notebook_is_there():
    assert set(EXPECTED) <= {path.name for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_committed_clean(path):
    notebook = _read(path)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in _code_cells(notebook):
        assert cell.outputs == [], f"outputs left in a cell of {path.name}: {cell.source[:80]!r}"
        assert cell.execution_count is None, f"execution count left in {path.name}"

    first_markdown = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
    assert "Open In Colab" in first_markdown.source
    assert BADGE.format(path.name) in first_markdown.source

    install = _code_cells(notebook)[0].source
    for needed in ("import smtl_keras", "except ImportError", "SMTL_KERAS_PIP", "sys.executable",
                   '"-m", "pip", "install"', "git+https://github.com/smtl-keras/smtl_keras"):
        assert needed in install, f"the first code cell of {path.name} lacks {needed!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_uses_the_public_api_only(path):
    source = "\n".join(cell.source for cell in _code_cells(_read(path)))
    assert not re.search(r"^\s*from smtl_keras\b|^\s*import smtl_keras\.", source, re.MULTILINE)
    public = set(smtl_keras.__all__) | {"__version__"}
    used = set(re.findall(r"\bsmtl_keras\.(\w+)", source))
    assert used <= public, f"{path.name} uses non-public names: {sorted(used - public)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs_in_smoke_mode(path, tmp_path, monkeypatch):
    if path.name == "03_serving.ipynb":
        # Offline, the notebook could not pip-install it (the notebooks/test extras have it).
        pytest.importorskip("tensorflow_serving.apis.predict_pb2")
    # The kernel inherits this process's environment.
    monkeypatch.setenv("SMTL_SMOKE", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")  # the notebooks are for Keras on TensorFlow
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tensorflow_datasets"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' tempfile.mkdtemp() folders
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend shows figures
    notebook = _read(path)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the traceback, if a cell fails

    for cell in _code_cells(notebook):
        if "plt.show()" in cell.source:
            shown = [output for output in cell.outputs if "image/png" in output.get("data", {})]
            assert shown, f"a plotting cell of {path.name} showed no figure: {cell.source[:80]!r}"
