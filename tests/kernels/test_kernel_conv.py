"""int8 convolution / depthwise / fully connected kernels vs the NumPy integer reference.

Every case runs on each (runtime, family) pair: Intel's CPU runtime with both
families, PoCL with the portable one.  Integer outputs must equal the reference;
requantized outputs may differ by 1 LSB on at most 0.1% of elements.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from gpu_int8.scheduler.conv_geometry import ConvGeometry
from gpu_int8.scheduler.conv_kernels import ConvKernel
from gpu_int8.scheduler.layouts import from_nchw, to_nchw
from tests.kernels.conftest import vnni_device
from tests.kernels.int_reference import affine, conv_acc, requant

# (id, geometry, activation dtype); the data are random per case (seeded by the id)
CASES = [
    ("odd-3x3-batch2", ConvGeometry(2, 3, 9, 11, 5, 3, 3, (1, 1), (1, 1), (1, 1)), np.uint8),
    ("s2-asym-pad", ConvGeometry(2, 7, 10, 9, 19, 3, 3, (2, 2), (1, 0), (0, 1)), np.int8),
    ("1x1", ConvGeometry(1, 33, 6, 7, 40), np.uint8),
    ("1x1-s2", ConvGeometry(3, 24, 9, 9, 17, 1, 1, (2, 2)), np.int8),
    ("dilated", ConvGeometry(1, 10, 12, 11, 12, 3, 3, (1, 1), (2, 2), (2, 2), (2, 2)), np.uint8),
    ("groups3", ConvGeometry(2, 12, 8, 8, 18, 3, 3, (1, 1), (1, 1), (1, 1), groups=3), np.uint8),
    ("groups2-cin5", ConvGeometry(1, 10, 7, 9, 6, 3, 3, (2, 1), (1, 1), (1, 1), groups=2), np.int8),
    ("dw3x3-odd", ConvGeometry(1, 21, 10, 9, 21, 3, 3, (1, 1), (1, 1), (1, 1), groups=21), np.uint8),
    ("dw3x3-s2-batch2", ConvGeometry(2, 32, 11, 12, 32, 3, 3, (2, 2), (1, 1), (0, 0), groups=32), np.int8),
    ("dw5x5-dilated", ConvGeometry(1, 16, 13, 13, 16, 5, 5, (1, 1), (4, 4), (4, 4), (2, 2), groups=16), np.uint8),
    # 16 channels at a time, the last block overlapping the one before it, where vectors are 16 wide
    ("dw3x3-40ch", ConvGeometry(1, 40, 6, 11, 40, 3, 3, (1, 1), (1, 1), (1, 1), groups=40), np.int8),
    # stride along rows only and along columns only (PP-OCR rec's (2, 1) and (1, 2)), signed input
    ("dw5x5-s2x1-48ch", ConvGeometry(1, 48, 11, 19, 48, 5, 5, (2, 1), (2, 2), (2, 2), groups=48), np.int8),
    ("dw3x3-s1x2-32ch", ConvGeometry(1, 32, 5, 23, 32, 3, 3, (1, 2), (1, 1), (1, 1), groups=32), np.uint8),
    ("fc-k600", ConvGeometry.matmul(5, 600, 37), np.uint8),
    ("k630-flush-across-taps", ConvGeometry(1, 70, 6, 6, 24, 3, 3, (1, 1), (1, 1), (1, 1)), np.uint8),
    ("7x7-s2-first-layer", ConvGeometry(1, 3, 17, 17, 16, 7, 7, (2, 2), (3, 3), (3, 3)), np.uint8),
    # 88 channels: the vnni kernel's last block holds 8, stored 8 wide (PP-OCR cls's 16->88)
    ("1x1-88ch", ConvGeometry(1, 16, 5, 7, 88), np.int8),
    # 8 output channels: the vnni kernel's half block alone, no full one (PP-OCR cls's first layer)
    ("3x3-s2-cout8", ConvGeometry(1, 3, 12, 14, 8, 3, 3, (2, 2), (1, 1), (1, 1)), np.uint8),
    # groups whose channels the vnni kernel pads to whole blocks, each group's last block stored
    # in part: ShuffleNet's 34 a group (2 channels), 28 (8 + 4 at once), 24 after 3x3 windows (8)
    ("1x1-groups4-34ch", ConvGeometry(1, 136, 5, 7, 136, groups=4), np.uint8),
    ("1x1-s2-groups2-28ch", ConvGeometry(2, 40, 7, 9, 56, 1, 1, (2, 2), groups=2), np.int8),
    ("3x3-groups3-24ch", ConvGeometry(1, 24, 6, 9, 72, 3, 3, (1, 1), (1, 1), (1, 1), groups=3), np.uint8),
]


def _data(geom: ConvGeometry, act, seed: int):
    rng = np.random.default_rng(seed)
    info = np.iinfo(act)
    x = rng.integers(info.min, int(info.max) + 1, (geom.n, geom.c, geom.h, geom.w)).astype(act)
    w = rng.integers(-128, 128, (geom.cout, geom.cin_g, geom.kh, geom.kw)).astype(np.int8)
    comp = rng.integers(-20000, 20000, geom.cout).astype(np.int32)
    pad_value = int(rng.integers(info.min, int(info.max) + 1))
    return x, w, comp, pad_value


def run_conv(dev, family, geom, x, w, comp, m, b, *, act, out, pad_value, lo=None, hi=None, variant="auto", **kw):
    """Run one ConvKernel on NCHW data; returns the NCHW output."""
    if family == "portable":
        kw["variant"] = variant
    k = ConvKernel(dev, family, geom, w, comp, m, b, act_dtype=act, out=out, pad_value=pad_value, lo=lo, hi=hi,
                   **kw)
    alloc = dev.allocator
    xb = alloc.from_numpy(from_nchw(x, k.layout, pad_value))
    yb = alloc.alloc(int(np.prod(k.output_shape())) * np.dtype(k.out_dtype).itemsize)
    k(xb, yb, wait=True)
    return to_nchw(alloc.to_numpy(yb, k.output_shape(), k.out_dtype), k.layout, geom.cout)


def _reference_acc(geom, x, w, comp, pad_value):
    return conv_acc(x, w, comp, stride=geom.stride, pads_begin=geom.pads_begin, pads_end=geom.pads_end,
                    dilation=geom.dilation, groups=geom.groups, pad_value=pad_value)


def _requant_params(acc, out, seed):
    """Scales that spread each channel over the output range, with a random shift."""
    rng = np.random.default_rng(seed)
    span = np.abs(acc).max(axis=(0, 2, 3)).astype(np.float64) + 1
    m = (rng.uniform(0.5, 2.0, span.shape) * 127 / span).astype(np.float32)
    b = rng.uniform(-20, 20, span.shape).astype(np.float32) + (128 if out == "u8" else 0)
    return m, b


def assert_requantized(y, ref, what=""):
    diff = np.abs(y.astype(np.int32) - ref.astype(np.int32))
    assert diff.max() <= 1, f"{what}: off by {diff.max()} LSB"
    assert (diff > 0).mean() <= 1e-3, f"{what}: {(diff > 0).mean():.2%} of elements differ by 1 LSB"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_conv_int32_exact(device_family, case):
    dev, family, variant = device_family
    name, geom, act = case
    x, w, comp, pad_value = _data(geom, act, seed=zlib.crc32(name.encode()))
    acc = _reference_acc(geom, x, w, comp, pad_value)
    sgs = [8, 16] if family == "intel" else [None]
    for sg in sgs:
        extra = {"subgroup_size": sg} if sg else {}
        ones = np.ones(geom.cout, np.float32)
        y = run_conv(dev, family, geom, x, w, comp, ones, 0 * ones, act=act, out="i32", pad_value=pad_value,
                     variant=variant, **extra)
        assert y.dtype == np.int32
        np.testing.assert_array_equal(y, acc, err_msg=f"{name} {family} sg={sg}")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_conv_requantized(device_family, case):
    dev, family, variant = device_family
    name, geom, act = case
    x, w, comp, pad_value = _data(geom, act, seed=zlib.crc32(name.encode()))
    acc = _reference_acc(geom, x, w, comp, pad_value)
    for out in ("u8", "i8"):
        m, b = _requant_params(acc, out, seed=len(name))
        # a fused activation range inside the type's range for u8 (e.g. a clamp/ReLU6)
        lo, hi = (3, 200) if out == "u8" else (-128, 127)
        y = run_conv(dev, family, geom, x, w, comp, m, b, act=act, out=out, pad_value=pad_value, lo=lo, hi=hi,
                     variant=variant)
        ref = requant(acc, m, b, lo, hi, y.dtype)
        assert y.dtype == np.dtype(out.replace("u8", "uint8").replace("i8", "int8"))
        assert_requantized(y, ref, f"{name} {family} {out}")
        assert len(np.unique(y)) > 16, "requantization parameters should spread the outputs"


@pytest.mark.parametrize("case", [CASES[1], CASES[7]], ids=[CASES[1][0], CASES[7][0]])
def test_conv_float_output(device_family, case):
    """Debug output f32 = acc*m + b, two float32 roundings: equal to the reference."""
    dev, family, variant = device_family
    name, geom, act = case
    x, w, comp, pad_value = _data(geom, act, seed=zlib.crc32(name.encode()))
    acc = _reference_acc(geom, x, w, comp, pad_value)
    m, b = _requant_params(acc, "i8", seed=1)
    y = run_conv(dev, family, geom, x, w, comp, m, b, act=act, out="f32", pad_value=pad_value, variant=variant)
    np.testing.assert_array_equal(y, affine(acc, m, b))


def test_float_blocks_exact_at_extremes(device_family):
    """255 x -128 over K = 1152: each 512-term float block is at its exactness limit."""
    dev, family, variant = device_family
    geom = ConvGeometry(1, 128, 5, 5, 16, 3, 3, (1, 1), (1, 1), (1, 1))
    x = np.full((1, 128, 5, 5), 255, np.uint8)
    w = np.full((16, 128, 3, 3), -128, np.int8)
    w[1::2] = 127
    comp = np.zeros(16, np.int32)
    ones = np.ones(16, np.float32)
    y = run_conv(dev, family, geom, x, w, comp, ones, 0 * ones, act=np.uint8, out="i32", pad_value=255,
                 variant=variant)
    np.testing.assert_array_equal(y, _reference_acc(geom, x, w, comp, 255))
    assert y[0, 0, 0, 0] == -255 * 128 * 1152


@pytest.mark.parametrize("dot_mode", [1, 2], ids=["dot_acc_sat", "dot_4x8packed"])
@pytest.mark.parametrize("act", [np.uint8, np.int8])
def test_intel_khr_dot_product_forms(dot_mode, act):
    """cl_khr_integer_dot_product builtins give the same integers as the plain multiply-add."""
    from tests.cl_devices import cl_device_for

    dev = cl_device_for("intel-cpu")
    if "cl_khr_integer_dot_product" not in dev.info.extensions:
        pytest.skip("device lacks cl_khr_integer_dot_product")
    geom = CASES[0][1]
    x, w, comp, pad_value = _data(geom, act, seed=7)
    ones = np.ones(geom.cout, np.float32)
    y = run_conv(dev, "intel", geom, x, w, comp, ones, 0 * ones, act=act, out="i32", pad_value=pad_value,
                 dot_mode=dot_mode)
    np.testing.assert_array_equal(y, _reference_acc(geom, x, w, comp, pad_value))


def test_portable_tile_and_local_size_variants(any_device):
    """Other register tiles and local sizes compute the same integers (tail rows included)."""
    geom = ConvGeometry(1, 20, 7, 5, 35, 3, 3, (1, 1), (1, 1), (1, 1))
    x, w, comp, pad_value = _data(geom, np.uint8, seed=3)
    ref = _reference_acc(geom, x, w, comp, pad_value)
    ones = np.ones(geom.cout, np.float32)
    for tile, local in ((1, (1, 1)), (4, (3, 2)), (8, (1, 16))):
        y = run_conv(any_device, "portable", geom, x, w, comp, ones, 0 * ones, act=np.uint8, out="i32",
                     pad_value=pad_value, tile=tile, local_size=local)
        np.testing.assert_array_equal(y, ref, err_msg=f"tile {tile} local {local}")


def test_depthwise_work_groups_of_whole_rows(any_device):
    """Work-groups of several whole output rows (Intel's runtime's default: whole_rows_local_size)
    whose count does not divide the rows: the grid's tail rows are skipped, every value exact.
    Rows fewer than two a core: a row's channel blocks split among groups of three or more."""
    from gpu_int8.scheduler.conv_kernels import whole_rows_local_size

    assert whole_rows_local_size((1, 40, 320), 2, 8192) == (1, 40, 10)  # 16 groups per core
    assert whole_rows_local_size((3, 20, 7), 2, 8192) == (3, 20, 1)
    assert whole_rows_local_size((64, 200, 7), 2, 8192) == (1, 1, 1)  # a row beyond the largest group
    assert [whole_rows_local_size((b, 10, r), 2, 8192)[0] for b, r in ((30, 3), (30, 6), (6, 3), (13, 2), (2, 3))] \
        == [15, 30, 3, 13, 2]  # 3 rows: 30 blocks in two groups; 13 and 2 blocks do not split
    geom = ConvGeometry(1, 32, 7, 21, 32, 3, 3, (1, 1), (1, 1), (1, 1), groups=32)
    x, w, comp, pad_value = _data(geom, np.int8, seed=4)
    ref = _reference_acc(geom, x, w, comp, pad_value)
    ones = np.ones(geom.cout, np.float32)
    blocks = 2 if any_device.info.keeps_work_items_apart else 4  # 16 or 8 channels per work-item
    for tile, rows in ((8, 3), (4, 2)):
        local = (blocks, -(-geom.ow // tile), rows)
        y = run_conv(any_device, "portable", geom, x, w, comp, ones, 0 * ones, act=np.int8, out="i32",
                     pad_value=pad_value, tile=tile, local_size=local)
        np.testing.assert_array_equal(y, ref, err_msg=f"tile {tile} local {local}")


def test_depthwise_rows_split_by_channel_blocks():
    """PP-OCRv4 rec's 5x5 on 480 channels at 3 rows, where work-items stay apart: each row's 30
    channel blocks in two work-groups, six groups for two cores; every value exact."""
    dev = vnni_device()
    geom = ConvGeometry(1, 480, 3, 20, 480, 5, 5, (1, 1), (2, 2), (2, 2), groups=480)
    x, w, comp, pad_value = _data(geom, np.int8, seed=6)
    ones = np.ones(geom.cout, np.float32)
    k = ConvKernel(dev, "portable", geom, w, comp, ones, 0 * ones, act_dtype=np.int8, out="i32", pad_value=pad_value)
    if dev.info.compute_units == 2:
        assert k._local[0] * 2 == k._global[0] == 30, (k._global, k._local)
    y = run_conv(dev, "portable", geom, x, w, comp, ones, 0 * ones, act=np.int8, out="i32", pad_value=pad_value)
    np.testing.assert_array_equal(y, _reference_acc(geom, x, w, comp, pad_value))


def test_depthwise_half_block_in_the_same_launch(any_device):
    """40 channels where vectors are 16 wide: one launch, its last block at channel 24 storing
    channels 32..39 only (the values are checked in test_conv_kernel's dw3x3-40ch)."""
    geom = ConvGeometry(1, 40, 6, 11, 40, 3, 3, (1, 1), (1, 1), (1, 1), groups=40)
    x, w, comp, pad_value = _data(geom, np.int8, seed=5)
    ones = np.ones(geom.cout, np.float32)
    k = ConvKernel(any_device, "portable", geom, w, comp, ones, 0 * ones, act_dtype=np.int8, out="i32",
                   pad_value=pad_value)
    alloc = any_device.allocator
    xb = alloc.from_numpy(from_nchw(x, k.layout, pad_value))
    yb = alloc.alloc(int(np.prod(k.output_shape())) * 4)
    assert len(k.prepare(xb, yb)) == 1
    k(xb, yb, wait=True)
    y = to_nchw(alloc.to_numpy(yb, k.output_shape(), k.out_dtype), k.layout, geom.cout)
    np.testing.assert_array_equal(y, _reference_acc(geom, x, w, comp, pad_value))


def random_geometry(rng: np.random.Generator) -> ConvGeometry:
    """A random convolution: odd channels, stride 1/2, padding, dilation, groups or depthwise, batch."""
    kind = rng.choice(["dense", "grouped", "depthwise"])
    groups = 1 if kind == "dense" else int(rng.integers(2, 5))
    cin_g = 1 if kind == "depthwise" else int(rng.integers(1, 24))
    cout_g = 1 if kind == "depthwise" else int(rng.integers(1, 40))
    if kind == "depthwise":
        groups = int(rng.integers(3, 40))
    kh, kw = (int(v) for v in rng.choice([1, 3, 5], 2))
    stride = tuple(int(v) for v in rng.integers(1, 3, 2))
    dilation = tuple(int(v) for v in rng.integers(1, 3, 2))
    pads_begin = tuple(int(v) for v in rng.integers(0, 3, 2))
    pads_end = tuple(int(v) for v in rng.integers(0, 3, 2))
    h = int(rng.integers((kh - 1) * dilation[0] + 1, 14))
    w = int(rng.integers((kw - 1) * dilation[1] + 1, 14))
    return ConvGeometry(int(rng.integers(1, 4)), cin_g * groups, h, w, cout_g * groups, kh, kw, stride, pads_begin,
                        pads_end, dilation, groups)


@pytest.mark.parametrize("seed", range(6))
def test_conv_random_shapes(device_family, seed):
    dev, family, variant = device_family
    rng = np.random.default_rng(1000 + seed)
    geom = random_geometry(rng)
    act = np.uint8 if seed % 2 else np.int8
    x, w, comp, pad_value = _data(geom, act, seed=seed)
    acc = _reference_acc(geom, x, w, comp, pad_value)
    ones = np.ones(geom.cout, np.float32)
    y = run_conv(dev, family, geom, x, w, comp, ones, 0 * ones, act=act, out="i32", pad_value=pad_value,
                 variant=variant)
    np.testing.assert_array_equal(y, acc, err_msg=str(geom))
    m, b = _requant_params(acc, "u8", seed=seed)
    y = run_conv(dev, family, geom, x, w, comp, m, b, act=act, out="u8", pad_value=pad_value, variant=variant)
    assert_requantized(y, requant(acc, m, b, 0, 255, np.uint8), str(geom))


def test_portable_variant_follows_dot_length():
    """The dot-product kernel where each output is a long dot product (KxK windows gathered
    first), the float kernel for short 1x1 reductions whose horizontal sums would dominate."""
    from gpu_int8.scheduler.dot_gemm import needs_im2col, portable_variant

    conv3 = ConvGeometry(1, 64, 8, 8, 64, 3, 3, (1, 1), (1, 1), (1, 1))
    assert portable_variant(conv3) == "dot" and needs_im2col(conv3)  # 36 KB of windows: gathered
    big = ConvGeometry(1, 64, 200, 200, 64, 3, 3, (1, 1), (1, 1), (1, 1))
    assert not needs_im2col(big)  # 23 MB of windows: rows of 3*64 bytes read in place
    assert portable_variant(conv3, on_gpu=True) == "float"
    assert needs_im2col(ConvGeometry(1, 3, 16, 16, 8, 7, 7))  # rows of 7*3 bytes: gathered windows
    assert portable_variant(ConvGeometry(1, 64, 8, 8, 256)) == "float"
    assert portable_variant(ConvGeometry(1, 64, 8, 8, 256), min_run=48) == "dot"  # loop kept: Intel's runtime
    assert portable_variant(ConvGeometry(1, 32, 8, 8, 256), min_run=48) == "float"
    assert portable_variant(ConvGeometry(1, 64, 8, 8, 256), vnni=True) == "vnni"
    assert portable_variant(ConvGeometry(1, 64, 8, 8, 64, groups=2), vnni=True) == "vnni"  # 32 a group
    assert portable_variant(ConvGeometry(1, 64, 8, 8, 32, groups=4), vnni=True) == "float"  # 8 a group
    wide = ConvGeometry(1, 256, 8, 8, 64)
    assert portable_variant(wide) == "dot" and not needs_im2col(wide)


def test_dot_kernel_gathers_into_padded_rows(any_device):
    """A 7x7 window over 3 channels (K = 147, padded to 160 with zeros in windows and weights),
    signed activations flipped to unsigned: the same integers as the reference."""
    geom = ConvGeometry(2, 3, 15, 13, 20, 7, 7, (2, 2), (3, 3), (3, 3))
    x, w, comp, pad_value = _data(geom, np.int8, seed=11)
    ones = np.ones(geom.cout, np.float32)
    k = ConvKernel(any_device, "portable", geom, w, comp, ones, 0 * ones, act_dtype=np.int8, out="i32",
                   pad_value=pad_value, variant="dot")
    assert k.im2col is not None and k.cols_nbytes == geom.m * 160
    y = run_conv(any_device, "portable", geom, x, w, comp, ones, 0 * ones, act=np.int8, out="i32",
                 pad_value=pad_value, variant="dot")
    np.testing.assert_array_equal(y, _reference_acc(geom, x, w, comp, pad_value))


@pytest.mark.parametrize("act", [np.uint8, np.int8])
def test_dot_kernel_row_runs(any_device, act, monkeypatch):
    """Kernel rows read as one run of KW*C bytes inside the input, tap by tap at the borders
    (stride 2, asymmetric padding, a tail of rows): the same integers as the reference."""
    from gpu_int8.scheduler import dot_gemm
    from gpu_int8.scheduler.dot_gemm import needs_im2col, row_runs

    monkeypatch.setattr(dot_gemm, "IM2COL_MAX_BYTES", 0)  # windows this small would be gathered
    geom = ConvGeometry(2, 48, 9, 10, 12, 3, 3, (2, 2), (1, 0), (1, 2))
    assert row_runs(geom) and not needs_im2col(geom)
    x, w, comp, pad_value = _data(geom, act, seed=12)
    ones = np.ones(geom.cout, np.float32)
    y = run_conv(any_device, "portable", geom, x, w, comp, ones, 0 * ones, act=act, out="i32",
                 pad_value=pad_value, variant="dot")
    np.testing.assert_array_equal(y, _reference_acc(geom, x, w, comp, pad_value))


@pytest.mark.parametrize("act", [np.uint8, np.int8])
def test_vnni_kernel_reads_taps_in_place(act):
    """Input channels a multiple of 4: taps read as words in place (padding, stride, dilation, a
    partial last block of output channels: 70 = 4 x 16 + 6, 12 alone), u8 and i8 inputs, int32
    and requantized outputs."""
    dev, family, variant = vnni_device(), "portable", "vnni"
    for geom in (ConvGeometry(2, 20, 11, 9, 70, 3, 3, (2, 1), (1, 2), (0, 1), (1, 2)),
                 ConvGeometry(1, 8, 7, 7, 24, 5, 5, (1, 1), (2, 2), (2, 2)),
                 ConvGeometry(1, 48, 6, 10, 12)):
        x, w, comp, pad_value = _data(geom, act, seed=geom.cout)
        k = ConvKernel(dev, "portable", geom, w, comp, np.ones(geom.cout, np.float32), np.zeros(geom.cout, np.float32),
                       act_dtype=act, out="i32", pad_value=pad_value, variant="vnni")
        assert k.name == "conv_gemm_vnni" and k.im2col is None
        acc = _reference_acc(geom, x, w, comp, pad_value)
        ones = np.ones(geom.cout, np.float32)
        y = run_conv(dev, family, geom, x, w, comp, ones, 0 * ones, act=act, out="i32", pad_value=pad_value,
                     variant=variant)
        np.testing.assert_array_equal(y, acc, err_msg=str(geom))
        m, b = _requant_params(acc, "i8", seed=3)
        y = run_conv(dev, family, geom, x, w, comp, m, b, act=act, out="i8", pad_value=pad_value, variant=variant)
        assert_requantized(y, requant(acc, m, b, -128, 127, np.int8), str(geom))


def test_vnni_kernel_takes_no_more_pixels_than_the_layer_has():
    """A fully connected layer at batch 1 (and 3): a work-item takes its one (three) rows,
    not the six a wider layer's work-item holds; the same integers.  A 7x7 layer's 49 pixels
    go five to a work-item (ten tiles, one pixel wasted, not nine of six and five wasted)."""
    from gpu_int8.scheduler.vnni_gemm import fitted_rows

    assert [fitted_rows(m, 6) for m in (1, 3, 6, 49, 196, 3136)] == [1, 3, 6, 5, 6, 6]
    assert [fitted_rows(m, 8) for m in (49, 784, 25600)] == [7, 8, 8]
    dev = vnni_device()
    for m in (1, 3):
        geom = ConvGeometry.matmul(m, 600, 37)
        x, w, comp, pad_value = _data(geom, np.int8, seed=m)
        ones = np.ones(geom.cout, np.float32)
        k = ConvKernel(dev, "portable", geom, w, comp, ones, 0 * ones, act_dtype=np.int8, out="i32", variant="vnni")
        assert k.tile == m
        y = run_conv(dev, "portable", geom, x, w, comp, ones, 0 * ones, act=np.int8, out="i32", pad_value=pad_value,
                     variant="vnni")
        np.testing.assert_array_equal(y, _reference_acc(geom, x, w, comp, pad_value))


def test_vnni_work_groups_take_all_channel_blocks_of_small_layers():
    """A layer whose weights fit the first-level cache runs each work-group over all its channel
    blocks (one core writes a pixel tile's whole rows); larger weights, or too few row tiles for
    16 groups a core, keep a group on one block, the grid then row tiles first (the groups of a
    block run one after another).  The same integers either way."""
    from gpu_int8.scheduler.vnni_gemm import ALL_BLOCKS_WEIGHT_BYTES, vnni_local_size

    assert vnni_local_size((2, 3200), 2, ALL_BLOCKS_WEIGHT_BYTES) == (2, 100)
    assert vnni_local_size((2, 3200), 2, ALL_BLOCKS_WEIGHT_BYTES + 1) == (1, 200)
    assert vnni_local_size((8, 10), 2, 1024) == (1, 3)  # 10 tiles: 32 groups only by block
    dev = vnni_device()
    for cin, per_group in ((12, 2), (400, 1)):  # 96 channels in 2 blocks of 3 x 16; 1152 or 38400 bytes
        geom = ConvGeometry(1, cin, 20, 24, 96)
        x, w, comp, pad_value = _data(geom, np.uint8, seed=cin)
        ones = np.ones(geom.cout, np.float32)
        k = ConvKernel(dev, "portable", geom, w, comp, ones, 0 * ones, act_dtype=np.uint8, out="i32", variant="vnni")
        blocks_first = per_group == 2
        assert (k._global[0], k._local[0]) == (2, 2) if blocks_first else (k._global[1], k._local[1]) == (2, 1), \
            (k._global, k._local)
        y = run_conv(dev, "portable", geom, x, w, comp, ones, 0 * ones, act=np.uint8, out="i32", pad_value=pad_value,
                     variant="vnni")
        np.testing.assert_array_equal(y, _reference_acc(geom, x, w, comp, pad_value))


@pytest.mark.parametrize("act", [np.uint8, np.int8])
def test_vnni_kernel_reads_whole_windows(act):
    """Rows that do not end on a word (3 or 5 channels): tiles whose windows lie inside the input
    read each window as one run of words over its rows (a word ending one row and starting the
    next), tiles at the padding row by row; every layer here has both kinds of tile (unpadded:
    all inside), with full blocks, a half block alone, and both."""
    from gpu_int8.scheduler.vnni_gemm import window_words

    dev = vnni_device()
    for geom in (ConvGeometry(1, 3, 15, 17, 64, 3, 3, (2, 2)),                       # 7 words, not 9
                 ConvGeometry(2, 3, 19, 20, 8, 7, 7, (2, 2), (3, 3), (3, 3)),         # 37, not 42
                 ConvGeometry(1, 5, 14, 13, 24, 5, 5, (1, 1), (2, 2), (2, 2)),        # 32, not 35
                 ConvGeometry(1, 3, 12, 30, 40, 3, 3, (1, 2), (1, 1), (0, 1))):       # strides 1 x 2
        assert window_words(geom)
        x, w, comp, pad_value = _data(geom, act, seed=geom.c + geom.kh)
        acc = _reference_acc(geom, x, w, comp, pad_value)
        ones = np.ones(geom.cout, np.float32)
        y = run_conv(dev, "portable", geom, x, w, comp, ones, 0 * ones, act=act, out="i32", pad_value=pad_value,
                     variant="vnni")
        np.testing.assert_array_equal(y, acc, err_msg=str(geom))


def test_depthwise_taps_on_vnni():
    """Where the variant is vnni, depthwise layers of 16k (+8) channels add their taps on vpdpbusd,
    four kernel rows per instruction (dwconv_vnni_taps.cl); others keep plain multiply-adds.  The
    values are checked by every dw case above on the vnni variant; here, which kernel runs."""
    dev = vnni_device()
    for c, expected in ((32, "dwconv_vnni"), (40, "dwconv_vnni"), (21, "dwconv_portable")):
        geom = ConvGeometry(1, c, 6, 11, c, 5, 5, (1, 1), (2, 2), (2, 2), groups=c)
        x, w, comp, pad_value = _data(geom, np.int8, seed=c)
        ones = np.ones(c, np.float32)
        k = ConvKernel(dev, "portable", geom, w, comp, ones, 0 * ones, act_dtype=np.int8, out="i32",
                       pad_value=pad_value, variant="vnni")
        assert k.name == expected, c
        alloc = dev.allocator
        xb, yb = alloc.from_numpy(from_nchw(x, k.layout, pad_value)), alloc.alloc(int(np.prod(k.output_shape())) * 4)
        assert len(k.prepare(xb, yb)) == 1
        k(xb, yb, wait=True)
        y = to_nchw(alloc.to_numpy(yb, k.output_shape(), k.out_dtype), k.layout, c)
        np.testing.assert_array_equal(y, _reference_acc(geom, x, w, comp, pad_value), err_msg=str(c))
    plain = ConvKernel(dev, "portable", geom, w, comp, ones, 0 * ones, act_dtype=np.int8, out="i32", variant="dot")
    assert plain.name == "dwconv_portable"
