// 2-D pooling on stored integers: MaxPool (MODE 0, the maximum of the valid taps,
// padding never wins) and AvgPool (MODE 1: integer window sum, then
// y = (float)sum / (float)count, correctly rounded, then the step's epilogue).
// One work-item per physical output element, any layout.
//
// AvgPool sums follow the reference executor: a tap inside the input reads x, a
// tap in the padding reads FILL (the pad value, or 0 with exclude_pad), a tap past
// the end padding (ceil rounding) reads 0; count = the window clipped to the
// padded input (or to the input with exclude_pad), at least 1, per axis.
//
// AvgPool with CV=16 or 8 (Intel's CPU runtime, NHWC in and out, channels a multiple of
// CV): a work-item sums CV consecutive channels in one vector, work-items kept apart (as
// in plan_reduce.cl), and runs the epilogue on them as one vector (EPIV, STOREV).
//
// Instance macros: X_T, Y_T, COUNT, COORDS(i) (declares n, c, oh, ow), SKIP, X_OFF(n,c,h,w),
// IH, IW, KH, KW, SH, SW, PH, PW, DH, DW, PEH, PEW (pads end), LOWEST (MaxPool),
// FILL, EXCLUDE_PAD, EPI(y), STORE(y) (or with CV > 1 EPIV(y), STOREV(y)), MODE, CV.

#include "channel_sums.cl"
KEEP_WORK_ITEMS_APART
__kernel void pool(__global Y_T *y, __global const X_T *x, __global const float *k)
{
    const int i = get_global_id(0) * CV;
    if (i >= COUNT)
        return;
    COORDS(i)
    if (SKIP)
        return;
    const int h0 = oh * SH - PH;
    const int w0 = ow * SW - PW;
#if MODE == 0
    int best = LOWEST;
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = h0 + kh * DH;
        if (ih < 0 || ih >= IH)
            continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int iw = w0 + kw * DW;
            if (iw >= 0 && iw < IW)
                best = max(best, (int)x[X_OFF(n, c, ih, iw)]);
        }
    }
    y[i] = (Y_T)best;
#else
    SUM_T sum = (SUM_T)(0);
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = h0 + kh;
        for (int kw = 0; kw < KW; ++kw) {
            const int iw = w0 + kw;
            if (ih >= 0 && ih < IH && iw >= 0 && iw < IW)
                sum += TAP(x + X_OFF(n, c, ih, iw));
            else if (ih < IH + PEH && iw < IW + PEW)
                sum += FILL;
        }
    }
    const int stop_h = min(h0 + KH, IH + PEH), stop_w = min(w0 + KW, IW + PEW);
    int cnt_h = EXCLUDE_PAD ? min(stop_h, IH) - max(h0, 0) : stop_h - h0;
    int cnt_w = EXCLUDE_PAD ? min(stop_w, IW) - max(w0, 0) : stop_w - w0;
    const int count = max(cnt_h, 1) * max(cnt_w, 1);
#if CV > 1
    STORE_MEANS(sum, count);
#else
    float v = PLAN_DIV((float)sum, (float)count);
    v = EPI(v);
    y[i] = STORE(v);
#endif
#endif
}
