"""Range: start, start + step, ... up to (excluding) stop.

Range-4 gives ``output_type`` and first converts the three scalars to it
(float to integer truncates: 0.5..5.2 step 1.3 as i32 is 0..5 step 1), as
OpenVINO does; Range-1 (opset < 4, or no output_type) keeps the inputs' type.
The length is max(ceil((stop - start) / step), 0); a zero step gives an empty range.
"""

import math

import numpy as np

from gpu_int8.ops.base import Attr
from gpu_int8.ops.element_types import convert, to_dtype
from gpu_int8.ops.shape_params import _ShapeParamsOp


class Range(_ShapeParamsOp):
    attributes = {"output_type": Attr("dtype", None)}
    shape_inputs = (0, 1, 2)

    @classmethod
    def run(cls, node, start, stop, step):
        for name, value in (("start", start), ("stop", stop), ("step", step)):
            if np.asarray(value).size != 1:
                raise ValueError(f"Range {name} must be a scalar, got shape {list(np.shape(value))}")
        out_type = cls.attr(node, "output_type")
        if out_type is None or int(node.attrs.get("opset", 4)) < 4:
            dtype = np.asarray(start).dtype
        else:
            dtype = to_dtype(out_type)
        start, stop, step = (convert(np.asarray(v).reshape(()), dtype) for v in (start, stop, step))
        if step == 0:
            return (np.zeros(0, dtype),)
        span = float(np.subtract(stop, start, dtype=dtype)) if dtype.kind == "f" else float(int(stop) - int(start))
        count = max(math.ceil(span / float(step)), 0)
        if dtype.kind == "f":
            return ((np.arange(count, dtype=dtype) * step + start).astype(dtype),)
        return ((int(start) + np.arange(count, dtype=np.int64) * int(step)).astype(dtype),)
