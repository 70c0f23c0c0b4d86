"""The architecture catalog. Importing this package registers every family, by name."""

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
    lenet,
    memn2n,
    nin,
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
from models.registry import MODELS, ModelSpec, build_model, get_spec, list_models, register_model

__all__ = ["MODELS", "ModelSpec", "build_model", "get_spec", "list_models", "register_model"]
