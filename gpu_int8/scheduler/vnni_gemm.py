"""The 512-bit VNNI GEMM for Intel's CPU runtime (``cl_kernels/conv_gemm_vnni.cl``): where it
applies, its register tile and its weight layout.

Each ``vpdpbusd zmm`` adds four input channels' products to 16 output channels of one
pixel, so a work-item holds TM pixels x TNB blocks of 16 channels in zmm registers
(TM * TNB accumulators + TNB weight vectors + one broadcast input word <= 32 registers).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .conv_geometry import ConvGeometry, check_weights

#: pixels per work-item for TNB channel blocks.  One block: 6, not the 16 its registers would
#: hold (the 16 row pointers and origins spill; 3->16 3x3 at 640x640: 0.86 -> 0.59 ms, 256->16
#: 3x3 at 40x40: 0.45 -> 0.24 ms); more blocks: the accumulators fill most of the 32 registers
VNNI_ROWS = {1: 6, 2: 8, 3: 8, 4: 6}


def vnni_rows(blocks: int, signed: bool) -> int:
    """Pixels per work-item (TM) for ``blocks`` of 16 channels (:data:`VNNI_ROWS`).  Signed
    activations flip each word they broadcast (ACT_FLIP), and with three blocks the eighth
    pixel then spills: 6 (PP-OCRv4 rec's 240 -> 240 1x1 at 12x80: 0.094 -> 0.074 ms; unsigned
    inputs take the same time with 6 or 8)."""
    return 6 if signed and blocks == 3 else VNNI_ROWS[blocks]


def fitted_rows(m: int, rows: int) -> int:
    """Pixels per work-item for a layer of ``m`` pixels, at most ``rows`` (:func:`vnni_rows`): all
    of them where that is fewer (a fully connected layer at batch 1 computed its one row six
    times: AlexNet's 9216 -> 4096 0.47 -> 0.38 ms); else, of ``rows`` and the two below it, the
    one whose tiles cost least, each tile its pixels plus about one pixel's work of its own
    (weight loads, set-up), so that the last tile wastes little: 7x7 layers (49 pixels) take 5
    (ResNet-50's 512 -> 512 3x3 0.137 -> 0.125 ms, 512 -> 2048 1x1 0.064 -> 0.060)."""
    if m <= rows:
        return m
    return min(range(rows, max(rows - 3, 0), -1), key=lambda t: -(-m // t) * (t + 1))


def vnni_applies(g: ConvGeometry) -> bool:
    """One group, or groups whose windows the kernel reads a word at a time (CIN_G a multiple of
    4, or 1x1) and whose channels padded to whole blocks of 16 (:func:`vnni_group_channels`) add
    at most half again (ShuffleNet's 34 -> 48, 68 -> 80); depthwise layers have kernels of their
    own.  Groups of 8 channels padded to 16 lose to the dot kernel (ResNeXt-like 3x3, 32 groups
    at 28x28: 0.12 against 0.07 ms)."""
    if g.groups == 1:
        return True
    return (not g.is_depthwise and (g.cin_g % 4 == 0 or g.kw == 1)
            and 2 * vnni_group_channels(g) <= 3 * g.cout_g)


def vnni_group_channels(g: ConvGeometry) -> int:
    """COUT_GP: a group's channels in the GEMM, padded to whole blocks of 16."""
    return -(-g.cout_g // 16) * 16


def vnni_group_blocks(g: ConvGeometry) -> int:
    """TNB for a grouped layer: the widest of 4, 3, 2, 1 blocks that tiles a group's blocks."""
    n = vnni_group_channels(g) // 16
    return next(t for t in (4, 3, 2, 1) if n % t == 0)


def gemm_channels(values: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Per-channel ``values`` of a grouped layer in GEMM channels (:func:`vnni_group_channels`
    each group, zeros where they pad it)."""
    cout_gp = vnni_group_channels(g)
    out = np.zeros((g.groups, cout_gp), values.dtype)
    out[:, : g.cout_g] = values.reshape(g.groups, g.cout_g)
    return out.reshape(-1)


#: a grouped 1x1 convolution of up to this many groups may run as one GEMM on this kernel, its
#: weights zero outside each group's block: ``groups`` times the multiply-adds, at several times
#: the speed of the grouped dot / float kernels (ShuffleNet's 136 -> 136 in 4 groups at 28x28:
#: 0.132 -> 0.055 ms), and faster than its groups here where those are short (below).  Wider
#: windows are not expanded: AlexNet's 5x5 in 2 groups took 1.08 ms so against 0.59 as its own
#: groups here, and 32 groups of 8 channels (ResNeXt-like) 1.09 against 0.27 on the dot kernel.
DENSE_GROUPS_MAX = 8

#: what a work-item's block of 16 channels costs per pixel beyond its words of k, in words:
#: fitted to grouped 1x1 layers at 7x7 to 56x56 timed as their groups and as one GEMM
#: (ShuffleNet's 544 -> 544 in 4 groups at 7x7: 0.009 as groups, 0.019 ms as one GEMM;
#: 48 -> 96 in 4 at 28x28: 0.0117 and 0.0098)
BLOCK_COST_WORDS = 48


def gemm_cost(g: ConvGeometry) -> int:
    """Relative time of a layer on this kernel per output pixel: blocks of 16 channels (each
    group's padded) by the words each adds up, plus :data:`BLOCK_COST_WORDS`."""
    blocks = g.groups * vnni_group_channels(g) // 16
    return blocks * (BLOCK_COST_WORDS + g.kh * -(-g.kw * g.cin_g // 4))


def as_dense_gemm(g: ConvGeometry, w: np.ndarray) -> tuple[ConvGeometry, np.ndarray] | None:
    """A grouped 1x1 convolution (``w`` [COUT, CIN/groups, 1, 1]) as one group, its weights
    block-diagonal [COUT, CIN, 1, 1]; None where :data:`DENSE_GROUPS_MAX` says to keep the groups
    or the kernel runs the groups as they are (:func:`vnni_applies`) in under 0.85 of the time
    (:func:`gemm_cost`; the margin keeps layers near even, ShuffleNet's 136 in 4 groups of 34
    padded to 48, on the GEMM with no partial blocks)."""
    if not 1 < g.groups <= DENSE_GROUPS_MAX or g.is_depthwise or (g.kh, g.kw) != (1, 1):
        return None
    if vnni_applies(g) and gemm_cost(g) < 0.85 * gemm_cost(dataclasses.replace(g, groups=1)):
        return None
    og, cg = g.cout // g.groups, g.c // g.groups
    dense = np.zeros((g.cout, g.c, 1, 1), np.int8)
    for i in range(g.groups):
        dense[i * og:(i + 1) * og, i * cg:(i + 1) * cg] = w[i * og:(i + 1) * og]
    return dataclasses.replace(g, groups=1), dense


#: a layer whose weights fit a core's first-level cache (32 KiB here) runs each work-group over
#: all its channel blocks, the work-items of one pixel tile one after the other: the tile's
#: output rows are written by one core, where blocks of one tile in different groups had two
#: cores write the same cache lines (det's 12 -> 96 1x1 at 160x160 0.167 -> 0.161 ms, its
#: 24-channel 2x2 deconvolution 0.260 -> 0.244, ResNet-50's 64 -> 256 1x1 + residual at 56x56
#: 0.148 -> 0.122).  Larger weights keep each group on one block, the block's weights shared
#: by its work-items (ResNet-50's 3x3 layers lose 2-4% otherwise).
ALL_BLOCKS_WEIGHT_BYTES = 32 * 1024


def vnni_local_size(grid: tuple[int, int], compute_units: int, weight_bytes: int) -> tuple[int, int]:
    """Work-group shape for a (channel blocks, row tiles) grid: about 16 groups per core, so the
    cores share the work evenly (left to itself, Intel's runtime can put a small grid in one
    group and leave cores idle: 784x1152x128 ran at 470 instead of 880 Gop/s).  Each group takes
    all channel blocks where the layer's ``weight_bytes`` are few (:data:`ALL_BLOCKS_WEIGHT_BYTES`)
    and there are row tiles enough for that many groups."""
    blocks, tiles = grid
    groups = 16 * max(compute_units, 1)
    if weight_bytes <= ALL_BLOCKS_WEIGHT_BYTES and tiles >= groups:
        return blocks, -(-tiles // groups)
    per_block = max(1, groups // blocks)
    return 1, -(-tiles // per_block)


def vnni_channel_blocks(cout: int) -> int:
    """16-channel blocks per work-item (TNB): without the last one where that is a half block
    (:func:`vnni_half_block`); else up to 4, the width among 4, 3 and 2 that pads the layer with
    the fewest blocks of zeros, the widest of those (96 channels: 3 x 2 blocks, not 4 x 2 with two
    of zeros; det's 12->96 1x1 at 160x160 0.30 -> 0.29 ms, its 24-channel deconvolution's 96 GEMM
    channels likewise)."""
    if vnni_half_block(cout):
        return cout // 16
    n = -(-cout // 16)
    if n <= 4:
        return n
    return min((4, 3, 2), key=lambda t: -(-n // t) * t - n)


def vnni_half_block(cout: int) -> bool:
    """Whether the layer's channels end with at most 8 after 0 to 3 full blocks, all in one
    work-item: those run on 8 lanes (PP-OCRv4 det's 24-channel layers: 16 + 8 lanes instead of
    32; on CPUs that split a 512-bit instruction in two, a quarter less work; PP-OCR cls's
    8-channel layers: 8 lanes instead of 16)."""
    return cout <= 8 or (16 < cout < 64 and 0 < cout % 16 <= 8)


def pack_weights_vnni_groups(w: np.ndarray, g: ConvGeometry, tnb: int) -> np.ndarray:
    """:func:`pack_weights_vnni` of each group in turn (each group's blocks follow the last's)."""
    check_weights(w, g)
    one = dataclasses.replace(g, c=g.cin_g, cout=g.cout_g, groups=1)
    return np.concatenate([pack_weights_vnni(w[i * g.cout_g:(i + 1) * g.cout_g], one, tnb).reshape(-1)
                           for i in range(g.groups)])


#: the most words a window read as one run may take: the kernel unrolls their loop, and
#: AlexNet's 11x11 stem (91 words instead of 99) took 0.127 ms so against 0.122 row by row
WINDOW_WORDS_MAX = 48


def window_words(g: ConvGeometry) -> int:
    """WINDOW_WORDS: the words a pixel's whole window takes read as one run of bytes over its
    kernel rows (a row's last word may end in the next row), where that is fewer than its rows
    padded to whole words one by one; else 0.  A stem's window of 3 channels: 3x3 takes 7
    words instead of 9 (3 -> 64 at 224x224, stride 2: 0.096 -> 0.067 ms; PP-OCRv4 det's
    3 -> 16 at 640x640: 0.43 -> 0.35), 7x7 37 instead of 42 (ResNet-50's: 0.212 -> 0.197).
    One group, adjacent taps, rows of 4 bytes or more (a word spans at most two rows), at
    most :data:`WINDOW_WORDS_MAX` words."""
    row = g.kw * g.cin_g
    if g.groups > 1 or g.dilation[1] != 1 or g.kh == 1 or row % 4 == 0 or row < 4:
        return 0
    words = -(-g.kh * row // 4)
    return words if words < g.kh * -(-row // 4) and words <= WINDOW_WORDS_MAX else 0


def pack_weights_vnni(w: np.ndarray, g: ConvGeometry, tnb: int, half: bool = False,
                      window: bool = False) -> np.ndarray:
    """int8 ``[COUT_P/(16 tnb)][KH*ROW_WORDS][tnb][16][4]``: for each block of 16*tnb output
    channels (zero-padded to COUT_P) and each 4 terms of k, the channels' 4 weights, one
    64-byte vector per 16 channels.  k runs over the kernel rows, each row's KW*CIN terms
    (kw, ci) zero-padded to ROW_WORDS*4 (the kernel reads a row as whole words).  With ``half``
    (one column of blocks), ``[KH*ROW_WORDS][8][4]`` follow for the last channels, from 16*tnb on.
    With ``window``, k runs over the whole window's KH*KW*CIN terms, zero-padded only at its
    end to :func:`window_words` words, in place of KH*ROW_WORDS."""
    check_weights(w, g)
    full = 16 * tnb
    cout_p = full + 8 if half else -(-g.cout // full) * full
    row = g.kw * g.cin_g
    terms = w.transpose(0, 2, 3, 1).reshape(g.cout, g.kh, row)  # COUT, KH, (KW, CIN)
    if window:
        k4 = window_words(g)
        padded = np.zeros((cout_p, k4 * 4), np.int8)
        padded[: g.cout, : g.kh * row] = terms.reshape(g.cout, -1)
    else:
        row4 = -(-row // 4) * 4
        padded = np.zeros((cout_p, g.kh, row4), np.int8)
        padded[: g.cout, :, :row] = terms
        k4 = g.kh * row4 // 4
    groups = cout_p // full if full else 0  # with no full block (HALF only), none
    blocks = padded[: groups * full].reshape(groups, tnb, 16, k4, 4).transpose(0, 3, 1, 2, 4)
    if not half:
        return np.ascontiguousarray(blocks)
    last = padded[full:].reshape(8, k4, 4).transpose(1, 0, 2)
    return np.concatenate([blocks.reshape(-1), last.reshape(-1)])
