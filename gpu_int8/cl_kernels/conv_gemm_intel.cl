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
// CIN_G COUT_G COUT), SG, TP, CIN4, K4PAD, COUT_BLOCKS, DOT_MODE, BYTE_GATHER.

#include "requant.cl"

#pragma OPENCL EXTENSION cl_intel_subgroups : enable
#pragma OPENCL EXTENSION cl_intel_subgroups_char : enable

#ifndef DOT_MODE
#define DOT_MODE 0
#endif
#ifndef BYTE_GATHER
#define BYTE_GATHER 0
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

// The packed word of channels c..c+3 at pixel (n, ih, iw) of an fsv16 tensor.
inline uint load_word(__global const uchar *x, int n, int c, int ih, int iw) {
    // 32-bit offsets: 64-bit per-lane addresses cost registers (tensors stay below 4 GiB)
    const uint pix = (((uint)n * C16 + c / 16) * IH + ih) * IW + iw;
#if BYTE_GATHER
    // groups whose channels do not start on a multiple of 4: assemble the word bytewise
    uint word = 0;
    for (int i = 0; i < 4; ++i) {
        const int ci = c + i;
        const uint off = (((uint)n * C16 + ci / 16) * IH + ih) * IW * 16 + (uint)iw * 16 + ci % 16;
        word |= (ci < C ? (uint)x[off] : 0u) << (8 * i);
    }
    return word;
#else
    return ((__global const uint *)x)[pix * 4 + (c % 16) / 4];
#endif
}

__attribute__((intel_reqd_sub_group_size(SG)))
__kernel void conv_gemm_intel(__global const uchar *x,      // fsv16 activations (u8 or i8 bytes)
                              __global const uint *w,       // [G][COUT_BLOCKS][K4PAD][SG]
                              __global const int *comp,     // [CO16*16]
                              __global const float *mscale, // [CO16*16]
                              __global const float *bias,   // [CO16*16]
                              __global OUT_T *y,            // fsv16 output
                              uint pad_word,                // the zero point in all 4 bytes
                              int M, int lo, int hi)
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

    int pn[TP], ph[TP], pw[TP];
#pragma unroll
    for (int p = 0; p < TP; ++p) {
        const int m = min(m0 + p, M - 1);  // tail pixels recompute the last one, never stored
        pn[p] = m / (OH * OW);
        const int rem = m - pn[p] * (OH * OW);
        ph[p] = rem / OW;
        pw[p] = rem - ph[p] * OW;
    }

    int acc[TP];
#pragma unroll
    for (int p = 0; p < TP; ++p)
        acc[p] = 0;

    const __global uint *wp = w + (size_t)sgid * K4PAD * SG;
    for (int k4b = 0; k4b < K4PAD; k4b += SG) {
        // this lane's word of the im2col row: tap (kh, kw), channels c..c+3
        const int k4 = k4b + lane;
        const int tap = k4 / CIN4;
        const int c4 = k4 - tap * CIN4;
        const int kh = tap / KW;
        const int kw = tap - kh * KW;
        const int c = g * CIN_G + c4 * 4;
        uint a[TP];
#pragma unroll
        for (int p = 0; p < TP; ++p) {
            const int ih = ph[p] * SH - PH + kh * DH;
            const int iw = pw[p] * SW - PW + kw * DW;
            const bool inside = k4 < K4 && ih >= 0 && ih < IH && iw >= 0 && iw < IW;
            a[p] = inside ? load_word(x, pn[p], c, ih, iw) : pad_word;
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
        const OUT_T v = rq_out(acc[p] + cmp, ms, bs, lo, hi);
#if SG == 16 && OUT_MODE == 0 && (COUT_G % 16 == 0 || COUT_G == COUT)
        // the 16 lanes are exactly one fsv16 channel block: one 16-byte block write
        const size_t blk = (((size_t)pn[p] * CO16 + (g * COUT_G + cb * SG) / 16) * OH + ph[p]) * OW + pw[p];
        intel_sub_group_block_write_uc((__global uchar *)y + blk * 16, as_uchar(v));
#else
        if (valid) {
            const size_t off = ((((size_t)pn[p] * CO16 + ch / 16) * OH + ph[p]) * OW + pw[p]) * 16 + ch % 16;
            y[off] = v;
        }
#endif
    }
}
