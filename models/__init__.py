"""The architecture catalog. Importing this package registers every family, by name."""

from models import dense, lenet  # noqa: F401  (each import registers its builders)
from models.registry import MODELS, ModelSpec, build_model, get_spec, list_models, register_model

__all__ = ["MODELS", "ModelSpec", "build_model", "get_spec", "list_models", "register_model"]
