"""Move maps against the op references: applying a step's maps the way the kernels
of cl_kernels/plan_move.cl do (fill, box copies, gathers through a map, in
physical layouts) gives exactly what the op's NumPy reference gives."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_int8.graph.node import Node
from gpu_int8.ops import get_op
from gpu_int8.schedule import Step
from gpu_int8.scheduler.compile.indexing import Placement
from gpu_int8.scheduler.move_maps import NotAGather, output_maps


def move_step(op_type, shapes, attrs=None, consts=()):
    """A move step reading tensors x0, x1, ... (shapes) then constant args ``consts``."""
    args = [["t", f"x{i}"] for i in range(len(shapes))]
    step_consts = {}
    for j, c in enumerate(consts):
        if c is None:
            args.append(None)
        else:
            step_consts[f"c{j}"] = np.asarray(c)
            args.append(["c", f"c{j}"])
    node = Node(op_type, "probe", [], ["y"], dict(attrs or {}))
    data = [np.zeros(s, np.int8) for s in shapes]
    outs = get_op(op_type).run(node, *data, *[step_consts.get(f"c{j}") for j in range(len(consts))])
    names = [f"y{i}" for i in range(len(outs))]
    step = Step("s", "move", [f"x{i}" for i in range(len(shapes))], names,
                {"op_type": op_type, "op_attrs": dict(attrs or {}), "args": args}, step_consts)
    return step, [np.asarray(o).shape for o in outs]


def run_reference(step, arrays):
    node = Node(step.op_type, step.name, [], list(step.outputs), dict(step.attrs["op_attrs"]))
    args = [arrays[step.inputs.index(a[1])] if a and a[0] == "t" else (step.consts[a[1]] if a else None)
            for a in step.attrs["args"]]
    return [np.asarray(r) for r in get_op(step.op_type).run(node, *args)]


def apply_box(out, src, box):
    """out[out_base + sum(i_d * os_d)] = src[in_base + sum(i_d * is_d)] over the box."""
    coords = np.stack(np.unravel_index(np.arange(box.size), box.dims)).astype(np.int64)
    out[box.out_base + np.asarray(box.out_strides, np.int64) @ coords] = \
        src[box.in_base + np.asarray(box.in_strides, np.int64) @ coords]


def emulate(step, ins, outs, arrays):
    """What the plan's kernels compute: logical outputs and the copy kinds used."""
    maps = output_maps(step, ins, outs)
    phys = [p.to_physical(a).reshape(-1) for p, a in zip(ins, arrays)]
    results, kinds = [], []
    for om, p in zip(maps, outs):
        if om.alias_of is not None:
            out = phys[om.alias_of].copy()
            kinds.append("alias")
        else:
            out = np.zeros(p.physical_size, p.np_dtype)
            if om.fill is not None:
                out[:] = np.asarray(om.fill).astype(p.np_dtype)
            for src in om.sources:
                if src.box is not None:
                    apply_box(out, phys[src.input], src.box)
                    kinds.append("box")
                else:
                    sel = src.map >= 0
                    out[sel] = phys[src.input][src.map[sel]]
                    kinds.append("map")
        results.append(p.from_physical(out))
    return results, kinds


i64 = np.int64
CASES = [
    ("reshape-4d-to-2d", "Reshape", [(1, 20, 3, 5)], {"special_zero": False}, [np.array([1, 300], i64)]),
    ("transpose", "Transpose", [(1, 20, 3, 5)], {}, [np.array([0, 2, 3, 1], i64)]),
    ("concat-channels", "Concat", [(1, 12, 4, 5), (1, 24, 4, 5), (1, 3, 4, 5)], {"axis": 1}, []),
    ("concat-width", "Concat", [(1, 8, 4, 5), (1, 8, 4, 2)], {"axis": 3}, []),
    ("split", "Split", [(1, 32, 4, 4)], {"num_splits": 2}, [np.array(1, i64)]),
    ("variadic-split", "VariadicSplit", [(1, 30, 4, 4)], {}, [np.array(1, i64), np.array([10, 20], i64)]),
    ("strided-slice-reverse", "StridedSlice", [(1, 20, 6, 7)],
     {"begin_mask": [1, 1, 0, 0], "end_mask": [1, 1, 0, 0]},
     [np.array([0, 0, 5, 1], i64), np.array([0, 0, 0, 7], i64), np.array([1, 1, -2, 2], i64)]),
    ("slice", "Slice", [(1, 20, 6, 7)], {}, [np.array([2, 1], i64), np.array([18, 6], i64),
                                              np.array([3, 2], i64), np.array([1, 3], i64)]),
    ("pad-constant", "Pad", [(1, 20, 4, 5)], {"pad_mode": "constant"},
     [np.array([0, 0, 1, 2], i64), np.array([0, 0, 2, 1], i64), np.array(7, np.int8)]),
    ("pad-reflect", "Pad", [(1, 20, 4, 5)], {"pad_mode": "reflect"},
     [np.array([0, 0, 1, 2], i64), np.array([0, 0, 2, 1], i64)]),
    ("depth-to-space", "DepthToSpace", [(1, 32, 3, 4)], {"block_size": 2, "mode": "depth_first"}, []),
    ("shuffle-channels", "ShuffleChannels", [(1, 24, 3, 4)], {"axis": 1, "group": 3}, []),
    ("gather", "Gather", [(1, 20, 3, 4)], {"batch_dims": 0}, [np.array([3, 0, 7, 7], i64), np.array(1, i64)]),
    ("interpolate-nearest", "Interpolate", [(1, 20, 3, 4)],
     {"mode": "nearest", "shape_calculation_mode": "sizes", "coordinate_transformation_mode": "asymmetric",
      "nearest_mode": "floor", "opset": 11}, [np.array([6, 8], i64), np.array([2, 3], i64)]),
    ("squeeze", "Squeeze", [(1, 20, 1, 4)], {}, [np.array([2], i64)]),
    ("unsqueeze", "Unsqueeze", [(20, 4)], {}, [np.array([0], i64)]),
    ("tile", "Tile", [(1, 20, 3, 4)], {}, [np.array([2, 1, 1, 2], i64)]),
]


@pytest.mark.parametrize("layout", ["plain", "nhwc", "fsv16"])
@pytest.mark.parametrize("name, op_type, shapes, attrs, consts", CASES, ids=[c[0] for c in CASES])
def test_move_maps_reproduce_the_op(name, op_type, shapes, attrs, consts, layout):
    step, out_shapes = move_step(op_type, shapes, attrs, consts)

    def place(shape):
        return Placement(tuple(shape), "i8", layout if len(shape) == 4 else "plain")

    ins, outs = [place(s) for s in shapes], [place(s) for s in out_shapes]
    rng = np.random.default_rng(0)
    arrays = [rng.integers(-128, 128, s).astype(np.int8) for s in shapes]
    got, kinds = emulate(step, ins, outs, arrays)
    for g, want in zip(got, run_reference(step, arrays)):
        np.testing.assert_array_equal(g, want)
    boxes = ("Concat", "Split", "VariadicSplit", "Slice", "StridedSlice", "Transpose", "Squeeze")
    if layout != "fsv16" and (op_type in boxes or name == "pad-constant"):  # fsv16 splits channels in blocks
        assert set(kinds) <= {"box", "alias"}, f"{op_type} should copy boxes, used {kinds}"


def test_identity_reshape_aliases():
    step, out_shapes = move_step("Reshape", [(1, 20, 3, 5)], {"special_zero": False}, [np.array([1, 300], i64)])
    maps = output_maps(step, [Placement((1, 20, 3, 5), "u8")], [Placement((1, 300), "u8")])
    assert maps[0].alias_of == 0
    # the same reshape from a channels-last tensor is a real copy
    maps = output_maps(step, [Placement((1, 20, 3, 5), "u8", "nhwc")], [Placement((1, 300), "u8")])
    assert maps[0].alias_of is None


def test_linear_interpolation_is_not_a_gather():
    attrs = {"mode": "linear_onnx", "shape_calculation_mode": "sizes", "opset": 11,
             "coordinate_transformation_mode": "half_pixel"}
    step, out_shapes = move_step("Interpolate", [(1, 4, 3, 4)], attrs, [np.array([6, 8], i64), np.array([2, 3], i64)])
    with pytest.raises(NotAGather):
        output_maps(step, [Placement((1, 4, 3, 4), "u8")], [Placement(out_shapes[0], "u8")])


def test_gather_with_tensor_indices_is_refused():
    step = Step("s", "move", ["x", "idx"], ["y"], {"op_type": "Gather", "op_attrs": {},
                                                   "args": [["t", "x"], ["t", "idx"], ["c", "axis"]]},
                {"axis": np.array(0, i64)})
    with pytest.raises(NotAGather):
        output_maps(step, [Placement((8, 3), "i8"), Placement((2,), "i8")], [Placement((2, 3), "i8")])


def test_nearest_upsampling_is_a_box_with_repeated_axes():
    """out[n, 2h+i, 2w+j, c] = in[n, h, w, c] (NHWC): affine once H and W are split by 2, the
    split axes read with input stride 0; a shuffled map is no box."""
    from gpu_int8.scheduler.move_maps import box_of

    n, h, w, c = 1, 5, 6, 24
    src = np.arange(n * h * w * c).reshape(n, h, w, c)
    phys = np.repeat(np.repeat(src, 2, axis=1), 2, axis=2).reshape(-1)
    box = box_of(phys, (n, 2 * h, 2 * w, c))
    assert box is not None and 0 in box.in_strides
    out = np.full(phys.size, -1)
    idx = np.stack(np.meshgrid(*[np.arange(d) for d in box.dims], indexing="ij")).reshape(len(box.dims), -1)
    out[box.out_base + np.asarray(box.out_strides) @ idx] = box.in_base + np.asarray(box.in_strides) @ idx
    np.testing.assert_array_equal(out, phys)
    assert box_of(np.random.default_rng(0).permutation(phys), (n, 2 * h, 2 * w, c)) is None
