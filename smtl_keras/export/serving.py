"""SavedModel export in the TensorFlow Serving layout."""

import os
import shutil
import tempfile

from smtl_keras.models.compiling import output_names


def _versions(export_dir):
    return sorted(int(name) for name in os.listdir(export_dir) if name.isdigit())


def export_for_serving(model, export_dir, version=None):
    """Exports `model` as a SavedModel for TensorFlow Serving.

    Writes `export_dir/<version>/`, the layout TF Serving watches, with a
    `serving_default` signature whose inputs are named after the model's
    `keras.Input`s and whose outputs are named after the tasks. The SavedModel
    is self-contained: loading it needs TensorFlow only, not `smtl_keras`.

    The export is atomic: it is written into a hidden temporary folder in
    `export_dir` (which TF Serving ignores) and renamed into place when
    complete, so a crash never leaves a half-written version behind.

    Args:
        model: A Keras model whose outputs are a dict keyed by task name.
        export_dir: The model's base folder; created if missing.
        version: Non-negative int. Defaults to the next free version
            (1 in an empty folder). An existing version is never overwritten.

    Returns:
        The path of the written version folder.
    """
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 0
    ):
        raise ValueError(
            "version must be None (next free version) or a non-negative int. "
            f"Received: version={version!r}"
        )
    output_names(model)
    export_dir = os.fspath(export_dir)
    if os.path.exists(export_dir) and not os.path.isdir(export_dir):
        raise ValueError(
            f"export_dir must be a folder. Received: export_dir={export_dir!r}, "
            "which is a file"
        )
    os.makedirs(export_dir, exist_ok=True)
    existing = _versions(export_dir)
    if version is None:
        version = existing[-1] + 1 if existing else 1
    target = os.path.join(export_dir, str(version))
    if os.path.exists(target):
        raise ValueError(
            f"Version {version} already exists in {export_dir!r}; refusing to "
            "overwrite it. Pass another version, or version=None for the next "
            f"free one ({existing[-1] + 1 if existing else 1})."
        )
    staging = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=export_dir)
    try:
        model.export(staging, format="tf_saved_model", verbose=False)
        if os.path.exists(target):
            raise ValueError(
                f"Version {version} appeared in {export_dir!r} during the "
                "export; refusing to overwrite it."
            )
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
