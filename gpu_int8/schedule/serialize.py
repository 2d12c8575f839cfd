"""Save and load a Schedule: JSON for the structure, one .npz for every array.

``save(schedule, "model.schedule")`` writes ``model.schedule.json`` and
``model.schedule.npz``; ``load`` reads them back bit for bit.  Loading never
unpickles (``np.load(allow_pickle=False)``) and checks the structure, so a
damaged cache file gives a ModelError, not a crash.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from gpu_int8.errors import ModelError
from gpu_int8.schedule.epilogue import check_program
from gpu_int8.schedule.schedule import Schedule
from gpu_int8.schedule.step import Step
from gpu_int8.schedule.tensor import Tensor

FORMAT = "gpu_int8.schedule"
VERSION = 1


def _paths(path: str | os.PathLike) -> tuple[Path, Path]:
    stem = str(path)
    if stem.endswith(".json") or stem.endswith(".npz"):
        stem = stem.rsplit(".", 1)[0]
    return Path(stem + ".json"), Path(stem + ".npz")


def save(schedule: Schedule, path: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``<path>.json`` and ``<path>.npz``; returns both paths."""
    json_path, npz_path = _paths(path)
    arrays: dict[str, np.ndarray] = {}
    tensors = []
    for i, t in enumerate(schedule.tensors.values()):
        tensors.append({"name": t.name, "shape": list(t.shape), "dtype": t.dtype, "axis": t.axis,
                        "origin": t.origin, "scale": t.scale is not None, "zero_point": t.zero_point is not None})
        if t.scale is not None:
            arrays[f"t{i}_scale"] = t.scale
        if t.zero_point is not None:
            arrays[f"t{i}_zero_point"] = t.zero_point
    steps = []
    for i, s in enumerate(schedule.steps):
        keys = list(s.consts)
        for j, key in enumerate(keys):
            arrays[f"s{i}_{j}"] = np.asarray(s.consts[key])
        steps.append({"name": s.name, "kind": s.kind, "inputs": s.inputs, "outputs": s.outputs,
                      "attrs": _encode(s.attrs), "consts": keys, "epilogue": _encode(s.epilogue),
                      "axis": s.axis, "absorbed": [list(a) for a in s.absorbed]})
    doc = {"format": FORMAT, "version": VERSION, "name": schedule.name, "inputs": schedule.inputs,
           "outputs": schedule.outputs, "tensors": tensors, "steps": steps}
    json_path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(json_path, json.dumps(doc, indent=1).encode())
    tmp = npz_path.with_name(npz_path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, npz_path)
    return json_path, npz_path


def load(path: str | os.PathLike) -> Schedule:
    """Read a schedule written by :func:`save`."""
    json_path, npz_path = _paths(path)
    try:
        doc = json.loads(json_path.read_text())
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"cannot read schedule: {exc}", file=str(json_path)) from None
    try:
        return _build(doc, arrays)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelError(f"malformed schedule: {exc!r}", file=str(json_path)) from None


def _build(doc: dict, arrays: dict[str, np.ndarray]) -> Schedule:
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise ValueError(f"not a {FORMAT} v{VERSION} file")
    tensors = {}
    for i, t in enumerate(doc["tensors"]):
        tensors[t["name"]] = Tensor(
            str(t["name"]), tuple(int(d) for d in t["shape"]), str(t["dtype"]),
            arrays[f"t{i}_scale"] if t["scale"] else None,
            arrays[f"t{i}_zero_point"] if t["zero_point"] else None,
            None if t["axis"] is None else int(t["axis"]), t["origin"])
    steps = []
    for i, s in enumerate(doc["steps"]):
        consts = {str(key): arrays[f"s{i}_{j}"] for j, key in enumerate(s["consts"])}
        step = Step(str(s["name"]), str(s["kind"]), [str(n) for n in s["inputs"]], [str(n) for n in s["outputs"]],
                    _decode(s["attrs"]), consts, _decode(s["epilogue"]),
                    None if s["axis"] is None else int(s["axis"]),
                    [(str(op), str(name)) for op, name in s["absorbed"]])
        check_program(step.epilogue, step.consts, len(step.inputs))
        steps.append(step)
    schedule = Schedule(str(doc["name"]), tensors, steps, [str(n) for n in doc["inputs"]],
                        [str(n) for n in doc["outputs"]])
    schedule.check()
    return schedule


def _encode(value):
    """JSON form of attribute values: tuples become lists, NumPy scalars Python ones, dtypes tagged."""
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, np.dtype):
        return {"__dtype__": value.name}
    if isinstance(value, type) and issubclass(value, np.generic):
        return {"__dtype__": np.dtype(value).name}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        raise TypeError("arrays belong in a step's consts, not its attrs")
    return value


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {"__dtype__"}:
            return np.dtype(value["__dtype__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
