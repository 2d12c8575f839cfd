// Intel-family int8 depthwise convolution: one lane per channel, subgroup block IO.
//
// Layouts: activations and output fsv16 [N][ceil(C/16)][H][W][16]; weights int8
// [KH*KW][ceil(C/16)*16].  A subgroup holds SG consecutive channels of one 16-channel
// block and TW consecutive output pixels of one row, so each tap of each pixel is one
// block read (the padding test is uniform across the subgroup).
//
//   global = (ceil(C/16)*16, ceil(OW/TW), N*OH), local = (SG, 1, 1)
//
// Build-time macros: ACT_T, OUT_T, OUT_MODE, geometry, SG, TW.

#include "requant.cl"

#pragma OPENCL EXTENSION cl_intel_subgroups : enable
#pragma OPENCL EXTENSION cl_intel_subgroups_char : enable

#define C16 ((C + 15) / 16)
#define AS_ACT RQ_CAT(as_, ACT_T)

__attribute__((intel_reqd_sub_group_size(SG)))
__kernel void dwconv_intel(__global const uchar *x,      // fsv16 activations
                           __global const uchar *w,      // [KH*KW][C16*16] int8 bytes
                           __global const int *comp,     // [C16*16]
                           __global const float *mscale, // [C16*16]
                           __global const float *bias,   // [C16*16]
                           __global OUT_T *y,            // fsv16 output
                           int pad_value, int lo, int hi EPI_ARGS)
{
    const int lane = get_sub_group_local_id();
    const int ch = get_global_id(0);           // this lane's channel
    const int ch0 = ch - lane;                 // the subgroup's first channel
    const int blk = ch0 / 16;
    const int sub0 = ch0 % 16;                 // 0, or 8 for the second half-block when SG == 8
    // group ids (local size 1 in dims 1 and 2): the compiler then knows these are uniform
    const int ow0 = get_group_id(1) * TW;
    const int row = get_group_id(2);
    const int n = row / OH;
    const int oh = row - n * OH;
    if (ow0 >= OW)
        return;

    int acc[TW];
#pragma unroll
    for (int t = 0; t < TW; ++t)
        acc[t] = 0;

    for (int kh = 0; kh < KH; ++kh) {
        const int ih = oh * SH - PH + kh * DH;
        const bool row_in = ih >= 0 && ih < IH;
        for (int kw = 0; kw < KW; ++kw) {
            const int wt = (int)as_char(intel_sub_group_block_read_uc(w + (kh * KW + kw) * (C16 * 16) + ch0));
#pragma unroll
            for (int t = 0; t < TW; ++t) {
                const int iw = (ow0 + t) * SW - PW + kw * DW;
                int a = pad_value;
                if (row_in && iw >= 0 && iw < IW) {  // uniform across the subgroup
                    const size_t pix = (((size_t)n * C16 + blk) * IH + ih) * IW + iw;
                    a = (int)AS_ACT(intel_sub_group_block_read_uc(x + pix * 16 + sub0));
                }
                acc[t] += a * wt;
            }
        }
    }

    const int cmp = comp[ch];
    const float ms = mscale[ch];
    const float bs = bias[ch];
#pragma unroll
    for (int t = 0; t < TW; ++t) {
        if (ow0 + t >= OW)
            break;
        const size_t pix = (((size_t)n * C16 + blk) * OH + oh) * OW + ow0 + t;
#if OUT_MODE == 3
        if (ch < C)
            y[pix * 16 + sub0 + lane] = EPI_STORE(acc[t] + cmp, ch, pix * 16 + sub0 + lane);
        continue;
#endif
        const OUT_T v = rq_out(acc[t] + cmp, ms, bs, lo, hi);
#if SG == 16 && OUT_MODE == 0
        intel_sub_group_block_write_uc((__global uchar *)y + pix * 16, as_uchar(v));
#else
        y[pix * 16 + sub0 + lane] = v;
#endif
    }
}
