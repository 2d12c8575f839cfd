// int8 max / average pooling over any activation layout (see layout.cl).
//
// Max: the largest input in the window (padded taps do not take part), same type out.
// Avg: sum of the window; padded taps add the zero point pad_value unless EXCLUDE_PAD;
//   count = taps inside the input (EXCLUDE_PAD) or inside the padded input;
//   q = sat(rint((sum / count) * m[c] + b[c])), clamped to [lo, hi].
//
//   global = (C, OW, N*OH)
//
// Build-time macros: ACT_T, OUT_T, OUT_MODE, LAYOUT, C, IH, IW, OH, OW, KH, KW, SH, SW,
// PH, PW (pads begin), PEH, PEW (pads end), EXCLUDE_PAD.

#include "requant.cl"
#include "layout.cl"

__kernel void max_pool(__global const ACT_T *x, __global ACT_T *y, int N)
{
    const int c = get_global_id(0), ow = get_global_id(1), row = get_global_id(2);
    if (c >= C || ow >= OW || row >= N * OH)
        return;
    const int n = row / OH, oh = row - n * OH;
    int best = -1000;  // below every u8/i8 value
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = oh * SH - PH + kh;
        if (ih < 0 || ih >= IH)
            continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int iw = ow * SW - PW + kw;
            if (iw >= 0 && iw < IW)
                best = max(best, (int)x[tensor_offset(LAYOUT, n, c, ih, iw, C, IH, IW)]);
        }
    }
    y[tensor_offset(LAYOUT, n, c, oh, ow, C, OH, OW)] = (ACT_T)best;
}

__kernel void avg_pool(__global const ACT_T *x, __global OUT_T *y, __global const float *mscale,
                       __global const float *bias, int N, int pad_value, int lo, int hi)
{
    const int c = get_global_id(0), ow = get_global_id(1), row = get_global_id(2);
    if (c >= C || ow >= OW || row >= N * OH)
        return;
    const int n = row / OH, oh = row - n * OH;
    int sum = 0, inside = 0, padded = 0;
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = oh * SH - PH + kh;
        for (int kw = 0; kw < KW; ++kw) {
            const int iw = ow * SW - PW + kw;
            if (ih >= 0 && ih < IH && iw >= 0 && iw < IW) {
                sum += x[tensor_offset(LAYOUT, n, c, ih, iw, C, IH, IW)];
                ++inside;
            } else if (ih >= -PH && ih < IH + PEH && iw >= -PW && iw < IW + PEW) {
                ++padded;
            }
        }
    }
#if !EXCLUDE_PAD
    sum += padded * pad_value;
    inside += padded;
#endif
    const float mean = (float)sum / (float)max(inside, 1);
    y[tensor_offset(LAYOUT, n, c, oh, ow, C, OH, OW)] = rq_out_f(rq_affine_f(mean, mscale[c], bias[c]), lo, hi);
}
