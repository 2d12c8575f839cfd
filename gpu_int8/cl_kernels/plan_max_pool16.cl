// MaxPool on stored integers, 16 channels per work-item, for layouts whose 16 consecutive
// channels of a pixel sit next to each other (nhwc with C % 16 == 0, fsv16).  Each tap is
// one 16-byte load and one vector max, where the scalar kernel (plan_pool.cl) does 16 index
// computations and byte loads.  Padding never wins, as there.
//
// Work-item i writes output elements [16 i, 16 i + 16).  Instance macros: X_T, VEC_T (X_T
// with 16 lanes), COUNT (outputs / 16), COORDS(i) (declares n, cb, oh, ow),
// X_VOFF(n, cb, h, w) (element offset of a 16-channel group), IH, IW, KH, KW, SH, SW, PH,
// PW, DH, DW, LOWEST.

__kernel void max_pool16(__global X_T *y, __global const X_T *x)
{
    const int i = get_global_id(0);
    if (i >= COUNT)
        return;
    COORDS(i)
    const int h0 = oh * SH - PH;
    const int w0 = ow * SW - PW;
    VEC_T best = (VEC_T)(LOWEST);
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = h0 + kh * DH;
        if (ih < 0 || ih >= IH)
            continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int iw = w0 + kw * DW;
            if (iw >= 0 && iw < IW)
                best = max(best, vload16(0, x + X_VOFF(n, cb, ih, iw)));
        }
    }
    vstore16(best, 0, y + (size_t)i * 16);
}
