"""The whole catalog: importing this module registers every family's builders by name.

Read the registry through here (`from models.catalog import build_model`): the package
itself (`models/__init__.py`) imports no family, so the keras-free manifest
(models/manifest.py) and the recipe checks that use it do not pay for Keras.
"""

from models import (  # noqa: F401  (each import registers its builders)
    aae,
    alexnet,
    allconv,
    approximators,
    autoencoders,
    cgan,
    char_lm,
    cnn,
    conv1d,
    dense,
    gan,
    inception,
    infogan,
    learning_rules,
    lenet,
    memn2n,
    nin,
    pivot,
    recurrent,
    resnet,
    segmentation,
    seq2seq,
    skipgram,
    text_baselines,
    transfer,
    vae,
    vgg,
    wgan,
)
from models.registry import MODELS, ModelSpec, build_model, get_spec, list_models

__all__ = ["MODELS", "ModelSpec", "build_model", "get_spec", "list_models"]
