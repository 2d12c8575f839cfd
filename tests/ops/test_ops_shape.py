"""Shape and data-movement ops against OpenVINO's own ops (compiled on CPU).

Parameters that decide shapes (target shapes, axes, begin/end, ...) are
constants on both sides, as they are in gpu_int8 after constant folding.
"""

from __future__ import annotations

import numpy as np
import pytest

ov = pytest.importorskip("openvino")
ops = pytest.importorskip("openvino.opset13")
opset8 = pytest.importorskip("openvino.opset8")
opset5 = pytest.importorskip("openvino.opset5")
opset15 = pytest.importorskip("openvino.opset15")

from gpu_int8.errors import ModelError  # noqa: E402
from gpu_int8.graph import Graph, Node, infer_shapes  # noqa: E402
from gpu_int8.ops import get_op  # noqa: E402

CORE = ov.Core()


def run_op(op_type: str, *inputs, **attrs):
    """Run one gpu_int8 op on arrays (None = absent optional input); all outputs."""
    node = Node(op_type, op_type.lower(), [f"in{i}" if x is not None else "" for i, x in enumerate(inputs)],
                ["out"], attrs)
    return get_op(op_type).run(node, *inputs)


def ov_run(build, *arrays) -> list[np.ndarray]:
    """All outputs of ``build(*parameters)`` run by OpenVINO on ``arrays``."""
    params = [ops.parameter(list(a.shape), a.dtype) for a in arrays]
    node = build(*params)
    model = ov.Model(node.outputs(), params)
    result = CORE.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})(list(arrays))
    return [result[i] for i in range(len(node.outputs()))]


def ov_fold(build, *arrays) -> np.ndarray:
    """OpenVINO's constant folding (its reference implementation) of build(*constants)."""
    out = build(*[ops.constant(a) for a in arrays])
    anchor = ops.parameter([1], np.float32)
    model = ov.Model([out, ops.add(anchor, anchor)], [anchor])
    return CORE.compile_model(model, "CPU")(np.zeros(1, np.float32))[0]


def const(values, dtype=np.int64):
    return ops.constant(np.array(values, dtype))


def assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape, (a.shape, b.shape)
        assert a.dtype == b.dtype, (a.dtype, b.dtype)
        np.testing.assert_array_equal(a, b)


def data(rng, shape, dtype=np.float32):
    return rng.integers(-100, 100, size=shape).astype(dtype)


# --- reshaping ---------------------------------------------------------------------

@pytest.mark.parametrize("output_type,dtype", [("i64", np.int64), ("i32", np.int32)])
def test_shape_of(output_type, dtype):
    x = np.zeros((2, 0, 3), np.float32)
    (ours,) = run_op("ShapeOf", x, output_type=output_type)
    assert_same([ours], ov_run(lambda p: ops.shape_of(p, output_type), x))
    assert ours.dtype == dtype


@pytest.mark.parametrize("in_shape,target,special_zero", [
    ((2, 3, 4), [0, -1], True),
    ((2, 3, 4), [-1, 0, 2], True),
    ((2, 3, 4), [2, 0, 0], True),
    ((2, 3, 4), [-1, 0], True),
    ((2, 3, 4), [6, -1], False),
    ((2, 3, 4), [24], False),
    ((1,), [], False),
    ((2, 3, 4), [0, 0, 0, 1], True),
    ((2, 0, 4), [0, 5, 0], False),
])
def test_reshape_matches_openvino(in_shape, target, special_zero):
    x = data(np.random.default_rng(0), in_shape)
    (ours,) = run_op("Reshape", x, np.array(target, np.int64), special_zero=special_zero)
    assert_same([ours], ov_run(lambda p: ops.reshape(p, const(target), special_zero), x))


def test_reshape_rejects_bad_targets():
    x = np.zeros((2, 3, 4), np.float32)
    for target in ([5, -1], [-1, -1], [7], [0, 0, 0, 0]):
        with pytest.raises(ValueError):
            run_op("Reshape", x, np.array(target), special_zero=True)


@pytest.mark.parametrize("axes", [None, [0], [-2], [0, 2], [1], [2, 0]])
def test_squeeze_matches_openvino(axes):
    x = data(np.random.default_rng(1), (1, 3, 1, 2))
    args = () if axes is None else (np.array(axes, np.int64),)
    (ours,) = run_op("Squeeze", x, *args)
    build = (lambda p: opset15.squeeze(p)) if axes is None else (lambda p: ops.squeeze(p, const(axes)))
    assert_same([ours], ov_run(build, x))


@pytest.mark.parametrize("axes", [[0], [-1], [1, 3], [4, 0], 2])
def test_unsqueeze_matches_openvino(axes):
    x = data(np.random.default_rng(2), (3, 2, 2))
    (ours,) = run_op("Unsqueeze", x, np.array(axes, np.int64))
    assert_same([ours], ov_run(lambda p: ops.unsqueeze(p, const(axes)), x))


def test_transpose_matches_openvino():
    rng = np.random.default_rng(3)
    for shape in [(2, 3, 4), (1, 2, 3, 4, 5), (5,), ()]:
        x = data(rng, shape)
        for order in ([], list(rng.permutation(len(shape)))):
            (ours,) = run_op("Transpose", x, np.array(order, np.int64))
            assert_same([ours], ov_run(lambda p, o=order: ops.transpose(p, const(o)), x))


def test_concat_split_variadic_split_match_openvino():
    rng = np.random.default_rng(4)
    a, b, c = data(rng, (2, 3, 4)), data(rng, (2, 1, 4)), data(rng, (2, 5, 4))
    for axis in (1, -2):
        (ours,) = run_op("Concat", a, b, c, axis=axis)
        assert_same([ours], ov_run(lambda p, q, r, ax=axis: ops.concat([p, q, r], ax), a, b, c))
    x = data(rng, (4, 6, 3))
    for axis, parts in ((1, 3), (-3, 2), (2, 1)):
        ours = run_op("Split", x, np.array(axis, np.int64), num_splits=parts)
        assert_same(ours, ov_run(lambda p, ax=axis, n=parts: ops.split(p, const(ax), n), x))
    for axis, lengths in ((1, [1, -1, 2]), (-1, [3, 0]), (0, [-1])):
        ours = run_op("VariadicSplit", x, np.array(axis, np.int64), np.array(lengths, np.int64))
        assert_same(ours, ov_run(lambda p, ax=axis, n=lengths: ops.variadic_split(p, const(ax), const(n)), x))
    with pytest.raises(ValueError):
        run_op("Split", x, np.array(1), num_splits=4)
    with pytest.raises(ValueError):
        run_op("VariadicSplit", x, np.array(1), np.array([2, 2]))


# --- slicing -------------------------------------------------------------------------

def _random_strided_slice(rng, rank):
    n = int(rng.integers(1, rank + 2))
    begin = [int(v) for v in rng.integers(-7, 7, n)]
    end = [int(v) for v in rng.integers(-7, 7, n)]
    stride = [int(rng.choice([-3, -2, -1, 1, 1, 2, 3])) for _ in range(n)]
    masks = {name: [int(rng.random() < p) for _ in range(n)]
             for name, p in (("begin_mask", 0.3), ("end_mask", 0.3), ("new_axis_mask", 0.15),
                             ("shrink_axis_mask", 0.15))}
    ellipsis = [0] * n
    if rng.random() < 0.3:
        at = int(rng.integers(n))
        ellipsis[at] = 1
        # an ellipsis that is also a new or shrunk axis is ill-defined (OpenVINO may even crash on it)
        masks["new_axis_mask"][at] = masks["shrink_axis_mask"][at] = 0
    masks["ellipsis_mask"] = ellipsis
    return begin, end, stride, masks


def test_strided_slice_matches_openvino_on_random_specs():
    # oracle: OpenVINO's reference (constant folding).  Its CPU kernel (2026.4) differs on
    # a shrunk axis followed by a new axis (zeros or shifted data) and on a shrunk axis
    # with begin_mask set (takes index 0, where the reference takes begin)
    rng = np.random.default_rng(5)
    compared = rejected = 0
    while compared < 60:
        shape = tuple(int(d) for d in rng.integers(1, 6, int(rng.integers(1, 5))))
        x = data(rng, shape)
        begin, end, stride, masks = _random_strided_slice(rng, len(shape))
        try:
            theirs = ov_fold(lambda c, b=begin, e=end, s=stride, m=masks: ops.strided_slice(
                c, const(b), const(e), const(s), m["begin_mask"], m["end_mask"], m["new_axis_mask"],
                m["shrink_axis_mask"], m["ellipsis_mask"]), x)
        except RuntimeError:
            # OpenVINO rejects the spec (shrink index out of range, too many axes): so must we
            with pytest.raises(ValueError):
                run_op("StridedSlice", x, np.array(begin), np.array(end), np.array(stride), **masks)
            rejected += 1
            continue
        ours = run_op("StridedSlice", x, np.array(begin), np.array(end), np.array(stride), **masks)
        assert_same(ours, [theirs])
        compared += 1
    assert rejected > 0


def test_strided_slice_clips_like_openvino_not_python():
    x = np.arange(5, dtype=np.float32)
    spec = dict(begin_mask=[0], end_mask=[0])
    (ours,) = run_op("StridedSlice", x, np.array([-9]), np.array([-20]), np.array([-1]), **spec)
    theirs = ov_run(lambda p: ops.strided_slice(p, const([-9]), const([-20]), const([-1]), [0], [0]), x)
    assert_same([ours], theirs)
    np.testing.assert_array_equal(ours, [0.0])  # Python's x[-9:-20:-1] would be empty


def test_slice_matches_openvino_on_random_specs():
    rng = np.random.default_rng(6)
    big = np.iinfo(np.int64).max
    for _ in range(40):
        shape = tuple(int(d) for d in rng.integers(1, 7, int(rng.integers(1, 5))))
        x = data(rng, shape)
        n = int(rng.integers(1, len(shape) + 1))
        axes = [int(a) - (len(shape) if rng.random() < 0.3 else 0) for a in rng.permutation(len(shape))[:n]]
        start = [int(rng.choice([rng.integers(-9, 9), -big, big])) for _ in range(n)]
        stop = [int(rng.choice([rng.integers(-9, 9), -big, big])) for _ in range(n)]
        step = [int(rng.choice([-3, -1, 1, 2, 5])) for _ in range(n)]
        with_axes = rng.random() < 0.8
        args = [np.array(v, np.int64) for v in (start, stop, step)]
        if with_axes:
            (ours,) = run_op("Slice", x, *args, np.array(axes, np.int64))
            build = lambda p, a=args, ax=axes: opset8.slice(p, *map(ops.constant, a), const(ax))  # noqa: E731
        else:
            (ours,) = run_op("Slice", x, *args)
            build = lambda p, a=args: opset8.slice(p, *map(ops.constant, a))  # noqa: E731
        assert_same([ours], ov_run(build, x))


# --- gathering and scattering --------------------------------------------------------

@pytest.mark.parametrize("data_shape,indices_shape,axis,batch_dims", [
    ((5, 4), (3,), 0, 0),
    ((2, 5, 4), (2, 3), 1, 1),
    ((2, 3, 5, 4), (2, 3, 2, 2), 2, 2),
    ((2, 3, 5, 4), (2, 7), -2, -1),
    ((2, 3, 5), (), 2, 0),
    ((3, 4), (2, 2, 2), 1, 0),
])
def test_gather_matches_openvino(data_shape, indices_shape, axis, batch_dims):
    rng = np.random.default_rng(7)
    x = data(rng, data_shape)
    dim = data_shape[axis]
    indices = rng.integers(-dim, dim, indices_shape).astype(np.int64)
    (ours,) = run_op("Gather", x, indices, np.array(axis, np.int64), batch_dims=batch_dims)
    theirs = ov_run(lambda p: ops.gather(p, ops.constant(indices), const(axis), batch_dims), x)
    assert_same([ours], theirs)


def test_gather_out_of_range_indices_give_zeros_like_openvino():
    x = np.arange(1, 6, dtype=np.float32)
    indices = np.array([0, 4, 5, -1, -5, -6, 7], np.int64)
    (ours,) = run_op("Gather", x, indices, np.array(0))
    assert_same([ours], ov_run(lambda p: ops.gather(p, ops.constant(indices), const(0)), x))


def test_gather_elements_and_gather_nd_match_openvino():
    rng = np.random.default_rng(8)
    x = data(rng, (3, 4, 5))
    for axis in (0, 1, -1):
        shape = list(x.shape)
        shape[axis] = 6
        dim = x.shape[axis]
        idx = rng.integers(-dim, dim, shape).astype(np.int64)
        (ours,) = run_op("GatherElements", x, idx, axis=axis)
        assert_same([ours], ov_run(lambda p, i=idx, a=axis: ops.gather_elements(p, ops.constant(i), a), x))
    for batch_dims, idx_shape in ((0, (2, 2)), (0, (4, 3)), (1, (3, 2, 1)), (2, (3, 4, 1)), (1, (3, 2))):
        depth = idx_shape[-1]
        dims = np.array(x.shape[batch_dims:batch_dims + depth])
        idx = (rng.integers(0, 1000, idx_shape) % dims).astype(np.int64)
        (ours,) = run_op("GatherND", x, idx, batch_dims=batch_dims)
        assert_same([ours], ov_run(lambda p, i=idx, b=batch_dims: opset8.gather_nd(p, ops.constant(i), b), x))
        (ours5,) = run_op("GatherND", x, idx, batch_dims=batch_dims, opset=5)
        assert_same([ours5], ov_run(lambda p, i=idx, b=batch_dims: opset5.gather_nd(p, ops.constant(i), b), x))


def test_scatter_update_matches_openvino():
    rng = np.random.default_rng(9)
    x = data(rng, (4, 5, 3))
    for axis, idx in ((0, np.array([3, 0])), (1, np.array([[4, 1], [0, 2]])), (-1, np.array([2]))):
        ax = axis % x.ndim
        updates = data(rng, x.shape[:ax] + idx.shape + x.shape[ax + 1:])
        (ours,) = run_op("ScatterUpdate", x, idx, updates, np.array(axis))
        theirs = ov_run(lambda p, u, i=idx, a=axis: ops.scatter_update(p, ops.constant(i), u, const(a)), x, updates)
        assert_same([ours], theirs)


@pytest.mark.parametrize("reduction", ["none", "sum", "prod", "min", "max", "mean"])
@pytest.mark.parametrize("use_init_val", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_scatter_elements_update_matches_openvino(reduction, use_init_val, dtype):
    rng = np.random.default_rng(10)
    x = rng.integers(-9, 10, (3, 4)).astype(dtype)
    idx = rng.integers(-4, 4, (3, 5)).astype(np.int64)
    if reduction == "none":  # repeated indices have no defined winner without a reduction
        idx = np.stack([rng.permutation(4)[:3] for _ in range(3)])
    updates = rng.integers(-9, 10, idx.shape).astype(dtype)
    axis = 1
    (ours,) = run_op("ScatterElementsUpdate", x, idx, updates, np.array(axis),
                     reduction=reduction, use_init_val=use_init_val)
    theirs = ov_run(lambda p, u: ops.scatter_elements_update(p, ops.constant(idx), u, const(axis),
                                                             reduction, use_init_val), x, updates)
    assert_same([ours], theirs)


# --- expanding -----------------------------------------------------------------------

@pytest.mark.parametrize("in_shape,target,mode,axes", [
    ((3, 1), [2, 3, 4], "numpy", None),
    ((), [2, 3], "numpy", None),
    ((3, 1), [4, 1, 1], "bidirectional", None),
    ((2, 1, 5), [3, 1], "bidirectional", None),
    ((3,), [2, 3, 4], "explicit", [1]),
    ((2, 4), [2, 3, 4], "explicit", [0, 2]),
])
def test_broadcast_matches_openvino(in_shape, target, mode, axes):
    x = data(np.random.default_rng(11), in_shape)
    extra = () if axes is None else (np.array(axes, np.int64),)
    (ours,) = run_op("Broadcast", x, np.array(target, np.int64), *extra, mode=mode)
    build = (lambda p: ops.broadcast(p, const(target), const(axes), mode)) if axes is not None \
        else (lambda p: ops.broadcast(p, const(target), broadcast_spec=mode))
    assert_same([ours], ov_run(build, x))


@pytest.mark.parametrize("in_shape,repeats", [((2, 3), [2, 1]), ((2, 3), [3]), ((2, 3), [2, 1, 3]), ((4,), [1])])
def test_tile_matches_openvino(in_shape, repeats):
    x = data(np.random.default_rng(12), in_shape)
    (ours,) = run_op("Tile", x, np.array(repeats, np.int64))
    assert_same([ours], ov_run(lambda p: ops.tile(p, const(repeats)), x))


@pytest.mark.parametrize("start,stop,step,out_type", [
    (0, 5, 1, "i64"), (5, 0, -2, "i32"), (0.5, 5.2, 1.3, "i32"), (-1.7, 3.1, 0.7, "i64"),
    (0.0, 1.0, 0.3, "f32"), (2.9, 7.1, 1.9, "i32"), (3, 3, 1, "i32"), (1.0, -2.0, -0.25, "f32"),
])
def test_range_matches_openvino_reference(start, stop, step, out_type):
    scalars = [np.array(v, np.float32) for v in (start, stop, step)]
    (ours,) = run_op("Range", *scalars, output_type=out_type)
    theirs = ov_fold(lambda a, b, c: ops.range(a, b, c, out_type), *scalars)
    assert_same([ours], [theirs])


def test_range_v1_keeps_input_type_and_identity_passes_through():
    (ours,) = run_op("Range", np.array(2, np.int32), np.array(11, np.int32), np.array(3, np.int32), opset=1)
    np.testing.assert_array_equal(ours, [2, 5, 8])
    assert ours.dtype == np.int32
    x = np.ones((2, 2), np.float32)
    assert run_op("Identity", x)[0] is x


# --- the shape pass ------------------------------------------------------------------

def test_shape_subgraph_folds_and_reshape_infers():
    graph = Graph("fold")
    graph.add_input("x", (2, 3, 4, 5), np.float32)
    graph.add_node("ShapeOf", ["x"], ["shape"])
    graph.add_const("take", np.array([0, 1], np.int64))
    graph.add_const("axis0", np.array(0, np.int64))
    graph.add_node("Gather", ["shape", "take", "axis0"], ["nc"])
    graph.add_const("minus1", np.array([-1], np.int64))
    graph.add_node("Concat", ["nc", "minus1"], ["target"], {"axis": 0})
    graph.add_node("Reshape", ["x", "target"], ["flat"], {"special_zero": False})
    graph.add_node("Split", ["flat", "axis0"], ["s0", "s1"], {"num_splits": 2})
    graph.add_const("order", np.array([2, 0, 1], np.int64))
    graph.add_node("Transpose", ["s1", "order"], ["t"])
    graph.outputs = ["t"]
    infer_shapes(graph)
    # the shape subgraph is folded away; the data path keeps its shapes
    assert [n.op_type for n in graph.nodes] == ["Reshape", "Split", "Transpose"]
    np.testing.assert_array_equal(graph.values["target"].data, [2, 3, -1])
    assert graph.values["flat"].shape == (2, 3, 20)
    assert graph.values["t"].shape == (20, 1, 3)


def test_shape_deciding_input_must_be_constant():
    graph = Graph("dynamic")
    graph.add_input("x", (2, 3), np.float32)
    graph.add_input("target", (2,), np.int64)
    graph.add_node("Reshape", ["x", "target"], ["y"], {"special_zero": False})
    graph.outputs = ["y"]
    with pytest.raises(ModelError, match="must be a constant"):
        infer_shapes(graph)
