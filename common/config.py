"""The two pydantic bases of every recipe section, in every layer that has one.

`Strict`: unknown keys are errors (pydantic names the key path) and values are frozen
once loaded. `Named`: a `{name: ..., <param>: ...}` section whose extra keys are the
named thing's parameters (an optimizer's momentum); the bare name is accepted too
(`optimizer: adam`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from common.errors import UserError


class Strict(BaseModel):
    """Base for every config section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Named(BaseModel):
    """A named thing plus its parameters (the extra keys)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def as_value_error(check, *args, **kwargs) -> None:
    """Run a check that raises UserError inside a validator, as a ValueError, so
    pydantic collects every problem of the recipe into one report."""
    try:
        check(*args, **kwargs)
    except UserError as err:
        raise ValueError(str(err)) from None
