"""Computed driver fields: a small, safe expression language over a telegram's other fields.

``formula = "total_energy_consumption_kwh - total_cooling_kwh"`` or
``formula = "add_months(meter_date, -storage)"``. Allowed: numbers, strings, field names (their output
names), ``+ - * /``, parentheses and the functions in :data:`FUNCTIONS`. Nothing else parses, so a driver
file can never run code. A formula whose inputs are missing gives no value.
"""

from __future__ import annotations

import ast
import calendar
import datetime
import math
import operator
from collections.abc import Callable
from functools import cached_property, lru_cache
from typing import Protocol


class FormulaError(ValueError):
    """A formula that does not parse or uses something not allowed (reported when the file loads)."""


class Names(Protocol):
    """Where a formula finds the values of the names it uses (a dict of fields, or a narrower scope)."""

    def get(self, name: str, /) -> object: ...


class Missing(Exception):
    """An input of the formula has no value in this telegram."""


def _date(text: object) -> datetime.date:
    if not isinstance(text, str) or len(text) < 10:
        raise Missing
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        raise Missing from None


@lru_cache(maxsize=4096)  # history dates repeat in every telegram of a meter
def add_months(date: object, months: object) -> str:
    """The same day ``months`` later (clamped to the month's end), as wmbusmeters counts history dates."""
    day = _date(date)
    total = day.year * 12 + day.month - 1 + int(months)  # type: ignore[call-overload]
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last)).isoformat()


@lru_cache(maxsize=4096)  # history dates repeat in every telegram of a meter
def add_months_keep_end(date: object, months: object) -> str:
    """Like :func:`add_months`, but the last day of a month stays the last day of a month
    (2024-11-30 one month back is 2024-10-31): wmbusmeters moves billing dates this way."""
    day = _date(date)
    moved = _date(add_months(date, months))
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        return end_of_month(moved.isoformat())
    return moved.isoformat()


@lru_cache(maxsize=4096)  # history dates repeat in every telegram of a meter
def add_days(date: object, days: object) -> str:
    return (_date(date) + datetime.timedelta(days=int(days))).isoformat()  # type: ignore[call-overload]


@lru_cache(maxsize=4096)  # history dates repeat in every telegram of a meter
def end_of_month(date: object) -> str:
    day = _date(date)
    return day.replace(day=calendar.monthrange(day.year, day.month)[1]).isoformat()


def date_part(value: object) -> str:
    """The date of a date-time text."""
    return _date(value).isoformat()


def coalesce(*values: object) -> object:
    """The first argument that has a value."""
    for value in values:
        if value is not None:
            return value
    raise Missing


FUNCTIONS: dict[str, Callable[..., object]] = {
    "add_months": add_months,
    "add_months_keep_end": add_months_keep_end,
    "add_days": add_days,
    "end_of_month": end_of_month,
    "date_part": date_part,
    "round": round,
    "sqrt": math.sqrt,
    "abs": abs,
    "min": min,
    "max": max,
}
_LAZY = {"coalesce"}  # takes missing inputs without failing

_OPERATORS: dict[type, Callable[[object, object], object]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class Formula:
    """A parsed, checked expression; ``evaluate(values)`` gives the value or None."""

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as exc:
            raise FormulaError(f"formula {text!r} does not parse: {exc.msg}") from None
        self.names: set[str] = set()
        self._check(tree.body)
        self.tree = tree.body

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            self._check(node.operand)
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
            pass
        elif isinstance(node, ast.Name):
            self.names.add(node.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            if node.func.id not in FUNCTIONS and node.func.id not in _LAZY:
                known = ", ".join(sorted([*FUNCTIONS, *_LAZY]))
                raise FormulaError(f"unknown function {node.func.id!r} in {self.text!r} (known: {known})")
            for arg in node.args:
                self._check(arg)
        else:
            raise FormulaError(f"formula {self.text!r}: {type(node).__name__} is not allowed")

    def evaluate(self, values: Names) -> object:
        try:
            return self._run(values)
        except (Missing, TypeError, ValueError, ZeroDivisionError, OverflowError):
            return None

    @cached_property
    def _run(self) -> Evaluator:
        return _compile(self.tree)


Evaluator = Callable[[Names], object]


def _compile(node: ast.AST) -> Evaluator:
    """The checked expression as nested closures: the tree is walked once, not at every telegram."""
    if isinstance(node, ast.Constant):
        constant = node.value
        return lambda values: constant
    if isinstance(node, ast.Name):
        name = node.id

        def lookup(values: Names) -> object:
            value = values.get(name)
            if value is None:
                raise Missing
            return value

        return lookup
    if isinstance(node, ast.BinOp):
        apply_operator = _OPERATORS[type(node.op)]
        left, right = _compile(node.left), _compile(node.right)
        return lambda values: apply_operator(left(values), right(values))
    if isinstance(node, ast.UnaryOp):
        operand = _compile(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda values: -operand(values)  # type: ignore[operator]
        return lambda values: +operand(values)  # type: ignore[operator]
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    arguments = tuple(_compile(arg) for arg in node.args)
    if node.func.id in _LAZY:

        def lazy(values: Names) -> object:
            results = []
            for argument in arguments:
                try:
                    results.append(argument(values))
                except Missing:
                    results.append(None)
            return coalesce(*results)

        return lazy
    function = FUNCTIONS[node.func.id]
    return lambda values: function(*(argument(values) for argument in arguments))
