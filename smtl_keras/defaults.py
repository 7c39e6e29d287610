"""Names the command line needs before TensorFlow is imported."""

DATASET_NAMES = ("synthetic", "digits", "multi_mnist", "celeb_a", "smallnorb")
OFFLINE_DATASETS = ("synthetic", "digits")
DEFAULT_ARCHITECTURES = ("stl", "hps", "smtl", "lite", "smtl_decoder", "lite_decoder")
