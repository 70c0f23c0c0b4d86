"""A small, safe expression language for a recipe's claim (`claim.check`).

```
final_loss['sgd'] > max(final_loss['adam'], final_loss['momentum'])
test_accuracy['fine_tune'] - test_accuracy['scratch'] >= 0.05 and epochs < budget_epochs
argmin(final_loss) == 'adam'
```

Names are metrics; in a sweep each one maps a variant to its value, indexed by the
variant's label (`'optimizer=adam'`), the label's value alone (`'adam'`) or position
(`[0]`). Allowed: numbers, strings, `and or not`, comparisons, `+ - * /`, indexing and
the functions in `FUNCTIONS`. Python's `eval` would run anything a recipe contains, so
the parsed tree is walked here instead (no library in the dependencies does this).
"""

from __future__ import annotations

import ast
import operator
import statistics
from collections.abc import Callable, Mapping
from typing import Any

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


class ClaimError(ValueError):
    """The claim cannot be parsed or evaluated (unknown name, label, construct)."""


class Variants(Mapping):
    """One metric across a sweep's variants: label -> value, looked up leniently."""

    def __init__(self, metric: str, values: dict[str, Any]) -> None:
        self.metric, self.values = metric, values

    def __getitem__(self, key: Any) -> Any:
        labels = list(self.values)
        if isinstance(key, int) and -len(labels) <= key < len(labels):
            return self.values[labels[key]]
        if key in self.values:
            return self.values[key]
        short = [label for label in labels if _label_values(label) == str(key)]
        if len(short) == 1:
            return self.values[short[0]]
        raise ClaimError(
            f"{self.metric}[{key!r}]: no such variant (or no value for it); "
            f"variants: {', '.join(repr(label) for label in labels)}"
        )

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _label_values(label: str) -> str:
    return ",".join(part.split("=", 1)[-1] for part in label.split(","))


def _argbest(pick: Callable) -> Callable[[Variants], str]:
    def fn(variants: Variants) -> str:
        return pick(variants, key=lambda label: variants[label])

    return fn


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": lambda *a: min(*(_values(x) for x in a)) if len(a) > 1 else min(_values(a[0])),
    "max": lambda *a: max(*(_values(x) for x in a)) if len(a) > 1 else max(_values(a[0])),
    "mean": lambda a: statistics.fmean(_values(a)),
    "abs": abs,
    "argmin": _argbest(min),
    "argmax": _argbest(max),
}


def _values(x: Any) -> Any:
    return list(x.values.values()) if isinstance(x, Variants) else x


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse(text: str) -> ast.Expression:
    """Parse and check that only allowed constructs are used (raises ClaimError)."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise ClaimError(f"not a valid expression: {err.msg} in {text!r}") from None
    allowed = (
        ast.Expression,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.UnaryOp,
        ast.Not,
        ast.USub,
        ast.UAdd,
        ast.BinOp,
        ast.Compare,
        ast.Name,
        ast.Load,
        ast.Constant,
        ast.Subscript,
        ast.Call,
        *_BINARY,
        *_COMPARE,
    )
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ClaimError(f"{type(node).__name__} is not allowed in a claim: {text!r}")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and not node.keywords
        ):
            raise ClaimError(f"only {', '.join(FUNCTIONS)} may be called in a claim: {text!r}")
    return tree


def evaluate(text: str, names: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Value of `text` with `names` bound, and every indexed value it read (for the report)."""
    used: dict[str, Any] = {}
    tree = parse(text)
    try:
        return _eval(tree.body, names, used), used
    except ClaimError:
        raise
    except (TypeError, ValueError, IndexError, KeyError, ZeroDivisionError, OverflowError) as err:
        raise ClaimError(f"cannot evaluate {text!r}: {type(err).__name__}: {err}") from None


def _eval(node: ast.AST, names: Mapping[str, Any], used: dict[str, Any]) -> Any:
    rec = lambda n: _eval(n, names, used)  # noqa: E731
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            return FUNCTIONS[node.id]
        if node.id not in names:
            raise ClaimError(f"unknown name {node.id!r}; known: {', '.join(sorted(names))}")
        value = names[node.id]
        if not isinstance(value, Variants):
            used[node.id] = value
        return value
    if isinstance(node, ast.Subscript):
        value, key = rec(node.value), rec(node.slice)
        if not isinstance(value, Variants):
            raise ClaimError(
                f"{ast.unparse(node)}: only a sweep's metrics can be indexed (by variant)"
            )
        result = value[key]
        used[f"{ast.unparse(node.value)}[{key!r}]"] = result
        return result
    if isinstance(node, ast.BoolOp):
        values = [rec(v) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        value = rec(node.operand)
        return {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}[
            type(node.op)
        ](value)
    if isinstance(node, ast.BinOp):
        left, right = rec(node.left), rec(node.right)
        if not all(_is_number(v) for v in (left, right)):  # no 'a' * 10**12 strings
            raise ClaimError(f"{ast.unparse(node)}: arithmetic takes numbers")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Compare):
        left = rec(node.left)
        for op, right_node in zip(node.ops, node.comparators):
            right = rec(right_node)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        return rec(node.func)(*(rec(a) for a in node.args))
    raise ClaimError(f"{type(node).__name__} is not allowed in a claim")
