"""Op definitions, one op per ``op_*.py`` file, registered by class name."""

import importlib
import pkgutil

from gpu_int8.ops.base import REGISTRY, Attr, Op, get_op

for _mod in pkgutil.iter_modules(__path__):
    if _mod.name.startswith("op_"):
        importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["REGISTRY", "Attr", "Op", "get_op"]
