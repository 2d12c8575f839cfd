"""Layer attributes of OpenVINO IR: strings in the file, typed values in the graph.

Each op's ``attributes`` schema gives the kind (int, float, ints, floats, str,
bool, dtype) an attribute is parsed into; attributes the schema does not know
stay strings.  The writer turns typed values back into OpenVINO's spelling.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from gpu_int8.frontends.ir_format import ELEMENT_TYPES

_INT = re.compile(r"\s*[+-]?\d+\s*")
_FLOAT = re.compile(r"\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)\s*", re.IGNORECASE)
_BOOLS = {"true": True, "false": False, "1": True, "0": False}


def parse_int(text: str) -> int:
    """A decimal integer; ValueError names the text otherwise."""
    if not _INT.fullmatch(text):
        raise ValueError(f"'{_clip(text)}' is not an integer")
    return int(text)


def parse_float(text: str) -> float:
    if not _FLOAT.fullmatch(text):
        raise ValueError(f"'{_clip(text)}' is not a number")
    return float(text)


def parse_list(text: str, item) -> list:
    """Comma-separated items; the empty string is the empty list."""
    if not text.strip():
        return []
    return [item(part) for part in text.split(",")]


def parse_bool(text: str) -> bool:
    try:
        return _BOOLS[text.strip().lower()]
    except KeyError:
        raise ValueError(f"'{_clip(text)}' is not true or false") from None


def parse_element_type(text: str) -> str:
    """An OpenVINO element type name (f32, i8, boolean, ...), kept as that string."""
    name = text.strip().lower()
    if name not in ELEMENT_TYPES:
        raise ValueError(f"'{_clip(text)}' is not an element type (known: {', '.join(ELEMENT_TYPES)})")
    return name


_PARSERS = {
    "int": parse_int,
    "float": parse_float,
    "ints": lambda text: parse_list(text, parse_int),
    "floats": lambda text: parse_list(text, parse_float),
    "bool": parse_bool,
    "str": str,
    "dtype": parse_element_type,
}


def parse_attr(kind: str, text: str):
    """The typed value of attribute text ``text`` of schema kind ``kind`` (ValueError if malformed)."""
    try:
        parser = _PARSERS[kind]
    except KeyError:
        raise ValueError(f"op schema names an unknown attribute kind '{kind}'") from None
    return parser(text)


def format_attr(value, kind: str | None = None) -> str:
    """OpenVINO's string form of an attribute value: "1, 2", "true", "f32", "0.5"."""
    if kind is None:
        kind = _kind_of(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "int":
        return str(int(value))
    if kind == "float":
        return _format_float(value)
    if kind == "ints":
        return ", ".join(str(int(v)) for v in _as_sequence(value))
    if kind == "floats":
        return ", ".join(_format_float(v) for v in _as_sequence(value))
    return str(value)


def _kind_of(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(np.asarray(value).ravel())
        return "floats" if any(isinstance(v, (float, np.floating)) for v in items) else "ints"
    return "str"


def _as_sequence(value) -> Sequence:
    if isinstance(value, (list, tuple)):
        return value
    return list(np.asarray(value).ravel())


def _format_float(value) -> str:
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _clip(text: str, limit: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "..."
