// Portable int8 depthwise convolution (OpenCL C 1.2, no extensions).
//
// Layouts: activations and output NHWC; weights int8 [KH*KW][C].
// A depthwise window has only KH*KW terms, so int32 arithmetic is direct.
// Padded taps read the activation zero point (pad_row, C bytes of it).
//
// Work-item: 8 channels x TW output pixels of one output row.
//   global = (ceil(C/8), ceil(OW/TW), N*OH)
//
// NO_WI_VECTORIZE=1 (Intel's CPU runtime) keeps work-items apart: the kernel is vectorized
// along channels by hand, and vectorizing across work-items would turn its loads into gathers.
//
// Build-time macros: ACT_T, OUT_T, OUT_MODE, IH, IW, C, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, TW,
// NO_WI_VECTORIZE.

#include "requant.cl"

#ifndef TW
#define TW 4
#endif

#define ACT8 RQ_CAT(ACT_T, 8)

#if NO_WI_VECTORIZE
__attribute__((intel_reqd_sub_group_size(1)))
#endif
__kernel void dwconv_portable(__global const ACT_T *x,       // [N][IH][IW][C]
                              __global const char *w,        // [KH*KW][C]
                              __global const int *comp,      // [C]
                              __global const float *mscale,  // [C]
                              __global const float *bias,    // [C]
                              __global OUT_T *y,             // [N][OH][OW][C]
                              __global const ACT_T *pad_row, // C copies of the zero point
                              int M, int lo, int hi EPI_ARGS)
{
    const int c0 = get_global_id(0) * 8;
    const int ow0 = get_global_id(1) * TW;
    const int row = get_global_id(2);
    if (c0 >= C || ow0 >= OW || row * OW >= M)
        return;
    const int n = row / OH;
    const int oh = row - n * OH;
    const int nc = min(8, C - c0);

    int8 acc[TW];
#pragma unroll
    for (int t = 0; t < TW; ++t)
        acc[t] = (int8)(0);

    for (int kh = 0; kh < KH; ++kh) {
        const int ih = oh * SH - PH + kh * DH;
        for (int kw = 0; kw < KW; ++kw) {
            const __global char *wk = w + (kh * KW + kw) * C + c0;
            int8 wv;
            if (nc == 8) {
                wv = convert_int8(vload8(0, wk));
            } else {
                int tw[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                for (int j = 0; j < nc; ++j)
                    tw[j] = wk[j];
                wv = vload8(0, tw);
            }
#pragma unroll
            for (int t = 0; t < TW; ++t) {
                const int iw = (ow0 + t) * SW - PW + kw * DW;
                const bool inside = ih >= 0 && ih < IH && iw >= 0 && iw < IW;
                const __global ACT_T *src = (inside ? x + ((n * IH + ih) * IW + iw) * C : pad_row) + c0;
                int8 av;
                if (nc == 8) {
                    av = convert_int8(vload8(0, src));
                } else {
                    int ta[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                    for (int j = 0; j < nc; ++j)
                        ta[j] = src[j];
                    av = vload8(0, ta);
                }
                acc[t] += av * wv;
            }
        }
    }

    // no early exit: with one the accumulators would live in memory, stored on every tap
#pragma unroll
    for (int t = 0; t < TW; ++t) {
        if (ow0 + t >= OW)
            continue;
        __global OUT_T *dst = y + ((size_t)row * OW + ow0 + t) * C + c0;
#if OUT_MODE == 3 && defined(EPI_STORE8)
        if (nc == 8) {  // the generated epilogue on the 8 channels at once
            EPI_STORE8(acc[t] + vload8(0, comp + c0), c0, ((size_t)row * OW + ow0 + t) * C + c0);
            continue;
        }
#endif
        int a[8];
        vstore8(acc[t], 0, a);
        for (int j = 0; j < nc; ++j) {
#if OUT_MODE == 3
            const size_t off = ((size_t)row * OW + ow0 + t) * C + c0 + j;
            y[off] = EPI_STORE(a[j] + comp[c0 + j], c0 + j, off);
#else
            dst[j] = rq_out(a[j] + comp[c0 + j], mscale[c0 + j], bias[c0 + j], lo, hi);
#endif
        }
    }
}
