"""A small name -> entry registry shared by sources, models, augmentations, optimizers...

Duplicate names raise (a silent overwrite hides bugs); an unknown name raises a
`UserError` that lists the known ones, so a typo in a recipe is one clear message (the
model catalog, a library layer, raises a plain `ValueError` instead).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

import pydantic

from common.errors import UserError

T = TypeVar("T")


class Registry(Generic[T]):
    """Names to entries for one kind of thing ("model", "data source", ...)."""

    def __init__(self, kind: str, *, error: type[Exception] = UserError) -> None:
        self.kind = kind
        self.error = error  # what an unknown name raises
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise KeyError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        if name not in self._entries:
            raise self.error(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}")
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(sorted(self._entries.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._entries


def keyword_params(fn: Callable, skip: tuple[str, ...] = ()) -> dict[str, inspect.Parameter]:
    """The keyword arguments a user may set on `fn` (minus injected ones in `skip`)."""
    return {
        name: p
        for name, p in inspect.signature(fn).parameters.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        and name not in skip
        and name != "self"
    }


def validate_params(
    fn: Callable, params: dict[str, Any], *, where: str, skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Check `params` against `fn`'s signature and type hints; return coerced values.

    Errors name the key path (`where.key`) and the parameters `fn` accepts, so a
    recipe author sees what is allowed without reading the source.
    """
    hints = _hints(fn)
    accepted = {name: hints.get(name, Any) for name in keyword_params(fn, skip)}
    return validate_against(accepted, params, where=where,
                            name=getattr(fn, "__name__", "params"))


def validate_against(
    accepted: dict[str, Any], params: dict[str, Any], *, where: str, name: str = "params"
) -> dict[str, Any]:
    """`validate_params` for a signature given as {parameter: type hint} (the model
    catalog's manifest gives one without importing the builders)."""
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise UserError(
            f"{where}: unknown parameter(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(accepted)) or '(none)'}"
        )
    fields = {key: (accepted[key], ...) for key in params}
    model = pydantic.create_model(  # type: ignore[call-overload]
        f"{name}_params",
        __config__=pydantic.ConfigDict(arbitrary_types_allowed=True),
        **fields,
    )
    try:
        checked = model(**params)
    except pydantic.ValidationError as err:
        lines = [
            f"{where}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
            for e in err.errors()
        ]
        raise UserError("\n".join(lines)) from None
    return {key: getattr(checked, key) for key in params}


def _hints(fn: Callable) -> dict[str, Any]:
    try:
        return inspect.get_annotations(fn, eval_str=True)
    except Exception:  # unresolvable hints (third-party code): accept any value
        return {}
