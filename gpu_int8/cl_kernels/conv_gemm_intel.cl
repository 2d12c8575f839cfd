// Intel-family int8 convolution as GEMM: subgroups, block reads, shuffles, dp4a.
// Covers 1x1 and KxK convolution (implicit im2col), grouped convolution and
// fully connected / matmul (1x1 pixels).  Build with -cl-std=CL3.0 (or CL2.0).
//
// One subgroup computes SG output channels (one per lane) x TP output pixels.
// K runs over packed words of 4 input channels: k4 = (kh*KW + kw)*CIN4 + ci/4.
// Per step of SG words:
//   * weights: intel_sub_group_block_read8 of the packed [K4PAD][SG] slab gives
//     each lane its own channel's next 8 words (two reads for SG=16);
//   * activations: lane l gathers word k4+l of each of the TP pixels (implicit
//     im2col, padding reads the zero point), then intel_sub_group_shuffle(a, j)
//     hands word j to every lane;
//   * acc += 4-term multiply-add of int-cast bytes, which IGC compiles to dp4a
//     (DOT_MODE 0), or the cl_khr_integer_dot_product builtins (DOT_MODE 1, 2).
//
// Layouts: activations and output fsv16 [N][ceil(C/16)][H][W][16] (channels past C
// are padding); weights uint32 [G][COUT_BLOCKS][K4PAD][SG], see pack_weights_intel.
//
//   global = (G * COUT_BLOCKS * SG, ceil(M/TP)), local = (SG, 1)
//
// Build-time macros: ACT_T, OUT_T, OUT_MODE, geometry (IH IW C OH OW KH KW SH SW PH PW DH DW
// CIN_G COUT_G COUT), SG, TP, CIN4, K4PAD, COUT_BLOCKS, DOT_MODE, BYTE_GATHER, PADDED (0 when
// the convolution has no padding: the bounds tests go away).

#include "requant.cl"

#pragma OPENCL EXTENSION cl_intel_subgroups : enable
#pragma OPENCL EXTENSION cl_intel_subgroups_char : enable

#ifndef DOT_MODE
#define DOT_MODE 0
#endif
#ifndef BYTE_GATHER
#define BYTE_GATHER 0
#endif
#ifndef PADDED
#define PADDED 1
#endif

#define C16 ((C + 15) / 16)
#define CO16 ((COUT + 15) / 16)
#define K4 (KH * KW * CIN4)
#define ACT4 RQ_CAT(ACT_T, 4)
#define AS_ACT4 RQ_CAT(as_, ACT4)

#if DOT_MODE != 0
#pragma OPENCL EXTENSION cl_khr_integer_dot_product : enable
#endif

// acc + dot(4 activation bytes, 4 weight bytes)
inline int dot4_acc(int acc, uint a, uint w) {
#if DOT_MODE == 0
    const ACT4 av = AS_ACT4(a);
    const char4 wv = as_char4(w);
    return acc + ((int)av.s0 * wv.s0 + (int)av.s1 * wv.s1 + (int)av.s2 * wv.s2 + (int)av.s3 * wv.s3);
#elif DOT_MODE == 1
#if ACT_IS_SIGNED
    return dot_acc_sat_4x8packed_ss_int(a, w, acc);
#else
    return dot_acc_sat_4x8packed_us_int(a, w, acc);
#endif
#else
#if ACT_IS_SIGNED
    return acc + dot_4x8packed_ss_int(a, w);
#else
    return acc + dot_4x8packed_us_int(a, w);
#endif
#endif
}

#if BYTE_GATHER
// The word of channels c..c+3 at pixel (n, ih, iw) of an fsv16 tensor, assembled bytewise:
// groups whose channels do not start on a multiple of 4 have no aligned word to load.
inline uint load_word_bytes(__global const uchar *x, int n, int c, int ih, int iw) {
    uint word = 0;
    for (int i = 0; i < 4; ++i) {
        const int ci = c + i;
        const uint off = ((((uint)n * C16 + ci / 16) * IH + ih) * IW + iw) * 16 + ci % 16;
        word |= (ci < C ? (uint)x[off] : 0u) << (8 * i);
    }
    return word;
}
#endif

__attribute__((intel_reqd_sub_group_size(SG)))
__kernel void conv_gemm_intel(__global const uchar *x,      // fsv16 activations (u8 or i8 bytes)
                              __global const uint *w,       // [G][COUT_BLOCKS][K4PAD][SG]
                              __global const int *comp,     // [CO16*16]
                              __global const float *mscale, // [CO16*16]
                              __global const float *bias,   // [CO16*16]
                              __global OUT_T *y,            // fsv16 output
                              uint pad_word,                // the zero point in all 4 bytes
                              int M, int lo, int hi EPI_ARGS)
{
    // ids from group ids, not global ids, so the compiler knows they are uniform
    // across the subgroup (scalar registers, no per-lane copies)
    const int lane = get_sub_group_local_id();
    const int sgid = get_group_id(0) * (get_local_size(0) / SG) + get_sub_group_id();  // G * COUT_BLOCKS
    const int g = sgid / COUT_BLOCKS;
    const int cb = sgid - g * COUT_BLOCKS;
    const int m0 = get_group_id(1) * TP;  // local size 1 in dim 1
    if (m0 >= M)
        return;

    // per pixel (uniform): its first input row/column and the word offset of its window
    // origin, so a lane's word address is that plus one per-lane offset per K step
    int ih0[TP], iw0[TP];
    uint base[TP];
#pragma unroll
    for (int p = 0; p < TP; ++p) {
        const int m = min(m0 + p, M - 1);  // tail pixels recompute the last one, never stored
        const int n = m / (OH * OW);
        const int rem = m - n * (OH * OW);
        const int oh = rem / OW;
        ih0[p] = oh * SH - PH;
        iw0[p] = (rem - oh * OW) * SW - PW;
        base[p] = (uint)(((n * C16) * IH + ih0[p]) * IW + iw0[p]) * 4u;  // may wrap below 0; offsets add back
    }

    int acc[TP];
#pragma unroll
    for (int p = 0; p < TP; ++p)
        acc[p] = 0;

    const __global uint *xw = (const __global uint *)x;
    const __global uint *wp = w + (size_t)sgid * K4PAD * SG;
    for (int k4b = 0; k4b < K4PAD; k4b += SG) {
        // this lane's word of the im2col row: tap (kh, kw), channels c..c+3
        const int k4 = k4b + lane;
        const int tap = k4 / CIN4;
        const int c4 = k4 - tap * CIN4;
        const int kh = tap / KW;
        const int kw = tap - kh * KW;
        const int c = g * CIN_G + c4 * 4;
#if !BYTE_GATHER
        const uint lane_off = (uint)(((c / 16) * IH + kh * DH) * IW + kw * DW) * 4u + (uint)((c % 16) / 4);
#endif
        uint a[TP];
#pragma unroll
        for (int p = 0; p < TP; ++p) {
#if PADDED
            const int ih = ih0[p] + kh * DH;
            const int iw = iw0[p] + kw * DW;
            const bool inside = k4 < K4 && ih >= 0 && ih < IH && iw >= 0 && iw < IW;
#else
            const bool inside = k4 < K4;  // no padding: every tap of a real output pixel is inside
#endif
#if BYTE_GATHER
            const int m = min(m0 + p, M - 1);
            a[p] = inside ? load_word_bytes(x, m / (OH * OW), c, ih0[p] + kh * DH, iw0[p] + kw * DW) : pad_word;
#else
            a[p] = inside ? xw[base[p] + lane_off] : pad_word;
#endif
        }

        // weights in halves of 8 words, so only 8 of them are live at a time
#pragma unroll
        for (int h = 0; h < SG / 8; ++h) {
            const uint8 w8 = intel_sub_group_block_read8(wp + (size_t)(k4b + 8 * h) * SG);
            const uint wv[8] = {w8.s0, w8.s1, w8.s2, w8.s3, w8.s4, w8.s5, w8.s6, w8.s7};
#pragma unroll
            for (int j = 0; j < 8; ++j) {
#pragma unroll
                for (int p = 0; p < TP; ++p)
                    acc[p] = dot4_acc(acc[p], sub_group_broadcast(a[p], 8 * h + j), wv[j]);
            }
        }
    }

    const int co = cb * SG + lane;         // output channel inside the group
    const int ch = g * COUT_G + co;        // output channel of the tensor
    const bool valid = co < COUT_G;
    const int chs = valid ? ch : 0;
    const int cmp = valid ? comp[chs] : 0;
    const float ms = valid ? mscale[chs] : 0.0f;
    const float bs = valid ? bias[chs] : 0.0f;
#pragma unroll
    for (int p = 0; p < TP; ++p) {
        if (m0 + p >= M)
            break;
        const int m = m0 + p;
        const int pn = m / (OH * OW);
        const int rem = m - pn * (OH * OW);
        const int ph = rem / OW;
        const int pw = rem - ph * OW;
#if OUT_MODE == 3
        if (valid) {
            const size_t off = ((((size_t)pn * CO16 + ch / 16) * OH + ph) * OW + pw) * 16 + ch % 16;
            y[off] = EPI_STORE(acc[p] + cmp, ch, off);
        }
        continue;
#endif
        const OUT_T v = rq_out(acc[p] + cmp, ms, bs, lo, hi);
#if SG == 16 && OUT_MODE == 0 && (COUT_G % 16 == 0 || COUT_G == COUT)
        // the 16 lanes are exactly one fsv16 channel block: one 16-byte block write
        const size_t blk = (((size_t)pn * CO16 + (g * COUT_G + cb * SG) / 16) * OH + ph) * OW + pw;
        intel_sub_group_block_write_uc((__global uchar *)y + blk * 16, as_uchar(v));
#else
        if (valid) {
            const size_t off = ((((size_t)pn * CO16 + ch / 16) * OH + ph) * OW + pw) * 16 + ch % 16;
            y[off] = v;
        }
#endif
    }
}
