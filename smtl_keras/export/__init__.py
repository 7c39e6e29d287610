"""Export for serving."""

from smtl_keras.export.serving import export_for_serving
