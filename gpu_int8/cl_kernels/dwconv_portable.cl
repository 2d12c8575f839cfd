// Portable int8 depthwise convolution (OpenCL C 1.2, no extensions).
//
// Layouts: activations and output NHWC; weights int8 [KH*KW][C].
// A depthwise window has only KH*KW terms, so int32 arithmetic is direct.
// Padded taps read the activation zero point (pad_row, C bytes of it).
//
// Work-item: CV channels (8, or 16 where the host asks for it) x TW output pixels of one
// output row.  global = (ceil(C/CV), ceil(OW/TW), N*OH).  A layer whose channels end with a
// half block of 8 (HALF_TAIL=1, CV=16) computes its last block at C - 16 and stores its last 8
// channels only: full vectors everywhere, and one launch (a second one for the 8 channels cost
// more than their work: PP-OCR cls's seven such layers 0.033 ms in launches of 0.005 each).
// Windows entirely inside the input (most of them) take a path without per-tap bounds checks.
//
// NO_WI_VECTORIZE=1 (Intel's CPU runtime) keeps work-items apart: the kernel is vectorized
// along channels by hand, and vectorizing across work-items would turn its loads into gathers.
//
// DW_VNNI=1 (Intel's CPU runtime on a CPU with AVX-512 VNNI, CV=16) accumulates the taps with
// vpdpbusd instead, four kernel rows per instruction (dwconv_vnni_taps.cl); its weights are
// packed as that file says.
//
// Build-time macros: ACT_T, OUT_T, OUT_MODE, IH, IW, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, TW,
// CV, HALF_TAIL, NO_WI_VECTORIZE, DW_VNNI, ACT_FLIP.

#include "requant.cl"
#include "conv_params.cl"

#ifndef TW
#define TW 4
#endif
#ifndef CV
#define CV 8
#endif
#ifndef HALF_TAIL
#define HALF_TAIL 0
#endif

#ifndef DW_VNNI
#define DW_VNNI 0
#endif
#if DW_VNNI
#include "dwconv_vnni_taps.cl"
#endif

#if CV == 16  // PoCL built for AVX2 mishandles 16-wide vectors (see requant.cl): Intel's runtime only
#include "requant16.cl"
#define ACCV int16
#define LOAD_INT(p) convert_int16(vload16(0, p))
#define STORE_ACC(v, p) vstore16(v, 0, p)
#else
#define ACCV int8
#define LOAD_INT(p) convert_int8(vload8(0, p))
#define STORE_ACC(v, p) vstore8(v, 0, p)
#endif

#if NO_WI_VECTORIZE
__attribute__((intel_reqd_sub_group_size(1)))
#endif
__kernel void dwconv_portable(__global const ACT_T *x,       // [N][IH][IW][C]
                              __global const uchar *params,  // see conv_params.cl
                              __global OUT_T *y,             // [N][OH][OW][C]
                              int M, int lo, int hi EPI_ARGS)
{
    CONV_PARAMS(char)  // w: [KH*KW][C]
#if HALF_TAIL
    const bool tail = (get_global_id(0) + 1) * CV > C;
    const int c0 = tail ? C - CV : get_global_id(0) * CV;
    const int j0 = tail ? CV / 2 : 0;  // the first channel this work-item stores
#else
    const int c0 = get_global_id(0) * CV, j0 = 0;
#endif
    const int ow0 = get_global_id(1) * TW;
    const int row = get_global_id(2);
    if (c0 >= C || ow0 >= OW || row * OW >= M)
        return;
    const int n = row / OH;
    const int oh = row - n * OH;
    const int nc = min(CV, C - c0);

    ACCV acc[TW];
#pragma unroll
    for (int t = 0; t < TW; ++t)
        acc[t] = (ACCV)(0);

    const int ih0 = oh * SH - PH, iw0 = ow0 * SW - PW;
#if DW_VNNI
    const __global uchar *img = (const __global uchar *)x + (size_t)n * IH * IW * C;
    const __global int *wq = (const __global int *)w;
    const __global uchar *pad = (const __global uchar *)pad_row;
    if (ih0 >= 0 && ih0 + (KH - 1) * DH < IH && iw0 >= 0 && iw0 + DW_COLS - 1 < IW)
        dw_vnni_accumulate(acc, img, wq, pad, c0, ih0, iw0, false);
    else
        dw_vnni_accumulate(acc, img, wq, pad, c0, ih0, iw0, true);
#else
    const bool interior = nc == CV && ih0 >= 0 && ih0 + (KH - 1) * DH < IH && iw0 >= 0 &&
                          iw0 + (TW - 1) * SW + (KW - 1) * DW < IW;
    if (interior) {  // every tap of every pixel inside the input
        const __global ACT_T *base = x + ((n * IH + ih0) * IW + iw0) * C + c0;
        for (int kh = 0; kh < KH; ++kh) {
            for (int kw = 0; kw < KW; ++kw) {
                const ACCV wv = LOAD_INT(w + (kh * KW + kw) * C + c0);
                const __global ACT_T *tap = base + (kh * DH * IW + kw * DW) * C;
#pragma unroll
                for (int t = 0; t < TW; ++t)
                    acc[t] += LOAD_INT(tap + t * SW * C) * wv;
            }
        }
    } else {
        for (int kh = 0; kh < KH; ++kh) {
            const int ih = ih0 + kh * DH;
            for (int kw = 0; kw < KW; ++kw) {
                const __global char *wk = w + (kh * KW + kw) * C + c0;
                ACCV wv;
                if (nc == CV) {
                    wv = LOAD_INT(wk);
                } else {
                    int tw[CV];
                    for (int j = 0; j < CV; ++j)
                        tw[j] = j < nc ? wk[j] : 0;
                    wv = LOAD_INT(tw);
                }
#pragma unroll
                for (int t = 0; t < TW; ++t) {
                    const int iw = (ow0 + t) * SW - PW + kw * DW;
                    const bool inside = ih >= 0 && ih < IH && iw >= 0 && iw < IW;
                    const __global ACT_T *src = (inside ? x + ((n * IH + ih) * IW + iw) * C : pad_row) + c0;
                    ACCV av;
                    if (nc == CV) {
                        av = LOAD_INT(src);
                    } else {
                        int ta[CV];
                        for (int j = 0; j < CV; ++j)
                            ta[j] = j < nc ? src[j] : 0;
                        av = LOAD_INT(ta);
                    }
                    acc[t] += av * wv;
                }
            }
        }
    }
#endif

    // no early exit: with one the accumulators would live in memory, stored on every tap
#pragma unroll
    for (int t = 0; t < TW; ++t) {
        if (ow0 + t >= OW)
            continue;
        __global OUT_T *dst = y + ((size_t)row * OW + ow0 + t) * C + c0;
#if OUT_MODE == 3 && defined(EPI_STORE8)
        if (nc == CV) {  // the generated epilogue on all CV channels at once (or 8 at a time)
            const size_t off = ((size_t)row * OW + ow0 + t) * C + c0;
#if CV == 16 && defined(EPI_STORE16)
            if (j0 == 0)
                EPI_STORE16(acc[t] + vload16(0, comp + c0), c0, off);
            else
                EPI_STORE8(acc[t].hi + vload8(1, comp + c0), c0 + 8, off + 8);
#elif CV == 16
            if (j0 == 0)
                EPI_STORE8(acc[t].lo + vload8(0, comp + c0), c0, off);
            EPI_STORE8(acc[t].hi + vload8(1, comp + c0), c0 + 8, off + 8);
#else
            EPI_STORE8(acc[t] + vload8(0, comp + c0), c0, off);
#endif
            continue;
        }
#endif
#if OUT_MODE == 0 && CV == 16
        if (nc == CV && j0 == 0) {  // requantized 16 channels at once
            vstore16(CONVERT_OUT16(rq_round_clamp16(rq_affine16(acc[t] + vload16(0, comp + c0),
                vload16(0, mscale + c0), vload16(0, bias + c0)), lo, hi)), 0, dst);
            continue;
        }
        if (nc == CV) {  // a half tail's last 8
            vstore8(CONVERT_OUT8(rq_round_clamp8(rq_affine8(acc[t].hi + vload8(1, comp + c0),
                vload8(1, mscale + c0), vload8(1, bias + c0)), lo, hi)), 1, dst);
            continue;
        }
#elif OUT_MODE == 0
        if (nc == CV) {  // requantized 8 channels at a time
            for (int h = 0; h < CV / 8; ++h) {
                int a8[8];
                vstore8(vload8(h, (int *)&acc[t]), 0, a8);
                const int8 v = vload8(0, a8) + vload8(h, comp + c0);
                vstore8(CONVERT_OUT8(rq_round_clamp8(rq_affine8(v, vload8(h, mscale + c0), vload8(h, bias + c0)),
                                                     lo, hi)), h, dst);
            }
            continue;
        }
#endif
        int a[CV];
        STORE_ACC(acc[t], a);
        for (int j = j0; j < nc; ++j) {
#if OUT_MODE == 3
            const size_t off = ((size_t)row * OW + ow0 + t) * C + c0 + j;
            y[off] = EPI_STORE(a[j] + comp[c0 + j], c0 + j, off);
#else
            dst[j] = rq_out(a[j] + comp[c0 + j], mscale[c0 + j], bias[c0 + j], lo, hi);
#endif
        }
    }
}
