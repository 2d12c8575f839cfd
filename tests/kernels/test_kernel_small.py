"""Pooling, eltwise add, quantize/dequantize, reorder and softmax kernels vs NumPy, on every runtime."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gpu_int8.scheduler.layouts import from_nchw, to_nchw
from gpu_int8.scheduler.small_kernels import Dequantize, EltwiseAdd, Pool, Quantize, Reorder, Softmax
from tests.kernels.int_reference import round_clamp
from tests.kernels.test_kernel_conv import assert_requantized

LAYOUTS = ["nchw", "nhwc", "fsv16"]


def _upload(dev, x_nchw, layout, pad=0):
    return dev.allocator.from_numpy(from_nchw(x_nchw, layout, pad))


def _download(dev, buf, layout, n, c, h, w, dtype):
    from gpu_int8.scheduler.layouts import physical_shape

    return to_nchw(dev.allocator.to_numpy(buf, physical_shape(layout, n, c, h, w), dtype), layout, c)


def _out_buf(dev, layout, n, c, h, w, dtype):
    from gpu_int8.scheduler.layouts import physical_shape

    return dev.allocator.alloc(int(np.prod(physical_shape(layout, n, c, h, w))) * np.dtype(dtype).itemsize)


def pool_reference(x, kind, kernel, stride, pb, pe, exclude_pad, pad_value):
    """(sum or max, count) windows in int64; max ignores padding."""
    n, c, h, w = x.shape
    oh = (h + pb[0] + pe[0] - kernel[0]) // stride[0] + 1
    ow = (w + pb[1] + pe[1] - kernel[1]) // stride[1] + 1
    out = np.zeros((n, c, oh, ow), np.int64)
    count = np.zeros((oh, ow), np.int64)
    for i, j in itertools.product(range(oh), range(ow)):
        h0, w0 = i * stride[0] - pb[0], j * stride[1] - pb[1]
        hs, ws = slice(max(h0, 0), min(h0 + kernel[0], h)), slice(max(w0, 0), min(w0 + kernel[1], w))
        win = x[:, :, hs, ws].astype(np.int64)
        if kind == "max":
            out[:, :, i, j] = win.max(axis=(2, 3))
            continue
        inside = win.shape[2] * win.shape[3]
        # taps inside the padded input but outside the input read the zero point
        ph = min(h0 + kernel[0], h + pe[0]) - max(h0, -pb[0])
        pw = min(w0 + kernel[1], w + pe[1]) - max(w0, -pb[1])
        padded = ph * pw - inside
        out[:, :, i, j] = win.sum(axis=(2, 3)) + (0 if exclude_pad else padded * pad_value)
        count[i, j] = inside if exclude_pad else inside + padded
    return out, count


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool(any_device, layout, kind):
    rng = np.random.default_rng(11)
    for act, exclude_pad, (n, c, h, w), kernel, stride, pb, pe in [
        (np.uint8, True, (2, 19, 9, 10), (3, 3), (2, 2), (1, 1), (1, 1)),
        (np.int8, False, (1, 5, 7, 7), (2, 2), (2, 2), (0, 0), (1, 1)),
        (np.uint8, False, (1, 33, 7, 7), (7, 7), (1, 1), (0, 0), (0, 0)),  # global average pool
    ]:
        info = np.iinfo(act)
        x = rng.integers(info.min, int(info.max) + 1, (n, c, h, w)).astype(act)
        pad_value = int(rng.integers(info.min, int(info.max) + 1))
        ref, count = pool_reference(x, kind, kernel, stride, pb, pe, exclude_pad, pad_value)
        m = rng.uniform(0.5, 1.5, c).astype(np.float32)
        b = rng.uniform(-3, 3, c).astype(np.float32) + (0 if act == np.int8 else 10)
        out = "u8" if act == np.uint8 else "i8"
        k = Pool(any_device, kind, layout, n, c, h, w, kernel, stride, pb, pe, act_dtype=act, exclude_pad=exclude_pad,
                 out=out, mscale=m, bias=b, pad_value=pad_value)
        yb = _out_buf(any_device, layout, n, c, k.oh, k.ow, k.out_dtype)
        k(_upload(any_device, x, layout), yb, wait=True)
        y = _download(any_device, yb, layout, n, c, k.oh, k.ow, k.out_dtype)
        if kind == "max":
            np.testing.assert_array_equal(y, ref.astype(act))
        else:
            mean = ref.astype(np.float32) / count.astype(np.float32)
            v = mean * m.reshape(1, -1, 1, 1) + b.reshape(1, -1, 1, 1)
            assert_requantized(y, round_clamp(v, info.min, info.max, act), f"avg pool {layout}")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_eltwise_add(any_device, layout):
    rng = np.random.default_rng(5)
    n, c, h, w = 2, 21, 5, 6
    a = rng.integers(0, 256, (n, c, h, w)).astype(np.uint8)
    b = rng.integers(-128, 128, (n, c, h, w)).astype(np.int8)
    ma = rng.uniform(0.2, 0.6, c).astype(np.float32)
    mb = rng.uniform(0.2, 0.6, c).astype(np.float32)
    bias = rng.uniform(-40, 40, c).astype(np.float32)
    for out, lo, hi in (("u8", 0, 255), ("i8", -100, 100)):
        k = EltwiseAdd(any_device, layout, n, c, h, w, ma, mb, bias, a_dtype=np.uint8, b_dtype=np.int8, out=out,
                       lo=lo, hi=hi)
        yb = _out_buf(any_device, layout, n, c, h, w, k.out_dtype)
        k(_upload(any_device, a, layout), _upload(any_device, b, layout), yb, wait=True)
        y = _download(any_device, yb, layout, n, c, h, w, k.out_dtype)
        shape = (1, c, 1, 1)
        v = (a.astype(np.float32) * ma.reshape(shape) + b.astype(np.float32) * mb.reshape(shape)) + bias.reshape(shape)
        ref = round_clamp(v, lo, hi, k.out_dtype)
        assert_requantized(y, ref, f"eltwise {layout} {out}")
        assert len(np.unique(y)) > 50


@pytest.mark.parametrize("layout", LAYOUTS)
def test_quantize_dequantize(any_device, layout):
    rng = np.random.default_rng(9)
    n, c, h, w = 2, 3, 7, 5
    x = rng.normal(0, 2, (n, c, h, w)).astype(np.float32)
    x.flat[:4] = [0.5, 1.5, -2.5, 300.0]  # ties (half to even) and saturation
    scale = np.array([0.02, 0.05, 1.0], np.float32)
    for out, zp in (("u8", np.array([128, 0, 3])), ("i8", np.array([0, -5, 7]))):
        k = Quantize(any_device, layout, n, c, h, w, scale, zp, out=out)
        yb = _out_buf(any_device, layout, n, c, h, w, k.out_dtype)
        k(_upload(any_device, x, layout), yb, wait=True)
        q = _download(any_device, yb, layout, n, c, h, w, k.out_dtype)
        inv = (np.float32(1) / scale).reshape(1, c, 1, 1)
        info = np.iinfo(k.out_dtype)
        ref = round_clamp(x * inv + zp.astype(np.float32).reshape(1, c, 1, 1), info.min, info.max, k.out_dtype)
        assert_requantized(q, ref, f"quantize {layout} {out}")

        d = Dequantize(any_device, layout, n, c, h, w, scale, zp, q_dtype=k.out_dtype)
        fb = _out_buf(any_device, layout, n, c, h, w, np.float32)
        d(_upload(any_device, ref, layout), fb, wait=True)
        f = _download(any_device, fb, layout, n, c, h, w, np.float32)
        expect = (ref.astype(np.int32) - zp.reshape(1, c, 1, 1)).astype(np.float32) * scale.reshape(1, c, 1, 1)
        np.testing.assert_array_equal(f, expect)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_reorder_all_layout_pairs(any_device, dtype):
    rng = np.random.default_rng(2)
    n, c, h, w = 2, 19, 3, 5
    x = rng.integers(0, 256, (n, c, h, w)).astype(dtype)
    for src, dst in itertools.permutations(LAYOUTS, 2):
        k = Reorder(any_device, src, dst, n, c, h, w, dtype, pad_value=7)
        yb = _out_buf(any_device, dst, n, c, h, w, dtype)
        k(_upload(any_device, x, src), yb, wait=True)
        y = any_device.allocator.to_numpy(yb, k.shape, dtype)
        np.testing.assert_array_equal(y, from_nchw(x, dst, pad_value=7), err_msg=f"{src} -> {dst}")


def test_softmax(any_device):
    rng = np.random.default_rng(4)
    x = rng.normal(0, 5, (3, 1000)).astype(np.float32)
    k = Softmax(any_device, 3, 1000)
    yb = any_device.allocator.alloc(x.nbytes)
    k(any_device.allocator.from_numpy(x), yb, wait=True)
    y = any_device.allocator.to_numpy(yb, x.shape, np.float32)
    e = np.exp(x.astype(np.float64) - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-9)
