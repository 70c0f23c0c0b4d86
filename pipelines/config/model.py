"""The `model:` section: a registered builder and its parameters.

`model.params` is checked against the builder's signature and type hints at load (the
catalog itself only raises `ValueError`s naming an argument: here the key path is added).
The signatures come from the catalog's manifest (models/manifest.py), so a recipe's
mistakes are answered without importing Keras.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from common.config import Strict
from common.errors import UserError
from common.registry import validate_against
from models.manifest import catalog


def check_model_params(name: str, params: dict[str, Any], *, where: str = "model.params") -> dict:
    """`params` checked against model `name`'s builder and coerced to its types.

    Raises:
        UserError: unknown model, unknown parameter or a value of the wrong type,
            naming `where.<parameter>` and what is allowed.
    """
    models = catalog()
    if name not in models:
        raise UserError(f"{where.rpartition('.')[0]}.name: unknown model {name!r}; "
                        f"known: {', '.join(models)}")
    return validate_against(models[name].param_hints(), params, where=where, name=name)


class ModelConfig(Strict):
    name: str = Field(description="registered model; `dlzoo models` lists them")
    params: dict[str, Any] = Field(default_factory=dict, description="builder options")

    @model_validator(mode="after")
    def _check_params(self) -> ModelConfig:
        try:
            check_model_params(self.name, self.params)
        except UserError as err:  # pydantic collects it with the recipe's other problems
            raise ValueError(str(err)) from None
        return self
