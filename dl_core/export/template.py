"""A small template language for the exported scripts.

A template is the script itself with two additions:

* ``$name`` is replaced by the value ``name`` written as a Python literal (``literal``):
  only numbers, booleans, None and names from a page's fixed lists ever get there, so
  nothing a link says can become code;
* lines ``#if EXPR``, ``#elif EXPR``, ``#else`` and ``#endif`` (leading spaces allowed)
  keep or drop the lines between them. EXPR is a Python expression over the template's
  values, written by us in the template, never taken from a link.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from string import Template
from typing import Any

_NAME = re.compile(r"[A-Za-z0-9_ .()+=,^-]*")  # what a name from a fixed list may contain


def literal(value: Any) -> str:
    """The Python literal of a validated value (ruff-format style: double quotes)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        short = float(f"{value:.12g}")  # a slider's 0.1 * 3 = 0.30000000000000004 reads 0.3
        return repr(short if math.isclose(short, value, rel_tol=1e-14) else value)
    if isinstance(value, str):
        if not _NAME.fullmatch(value):
            raise ValueError(f"not a plain name: {value!r}")
        return f'"{value}"'
    if isinstance(value, (tuple, list)):
        inner = ", ".join(literal(v) for v in value)
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    raise TypeError(f"no literal for {type(value).__name__}")


class Code(str):
    """Text inserted as it is (a piece of code chosen by the exporter, never by a link)."""


def render(text: str, values: Mapping[str, Any]) -> str:
    """The template ``text`` with its conditionals applied and ``$names`` filled in."""
    env = {"__builtins__": {}, "len": len, "any": any, "all": all, **values}
    out: list[str] = []
    stack: list[tuple[bool, bool]] = []  # (this branch is on, an earlier branch was taken)
    on = True
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("#if "):
            stack.append((on, False))
            cond = on and bool(eval(s[4:], env))  # our own template's condition
            stack[-1] = (on, cond)
            on = cond
        elif s.startswith("#elif "):
            outer, taken = stack[-1]
            cond = outer and not taken and bool(eval(s[6:], env))
            stack[-1] = (outer, taken or cond)
            on = cond
        elif s == "#else":
            outer, taken = stack[-1]
            on = outer and not taken
            stack[-1] = (outer, True)
        elif s == "#endif":
            on = stack.pop()[0]
        elif on:
            out.append(line)
    if stack:
        raise ValueError("template: #if without #endif")
    return Template("\n".join(out) + "\n").substitute(_Literals(values))


class _Literals(Mapping[str, str]):
    """The template's values as literals, computed only for the names the text uses."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getitem__(self, key: str) -> str:
        v = self._values[key]
        return v if isinstance(v, Code) else literal(v)

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
