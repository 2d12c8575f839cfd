// MaxPool on stored integers in fsv16, VW (16) channels per work-item (NHWC tensors take
// plan_max_pool_rows.cl).  Each tap is one VW-byte load and one vector max, where the scalar
// kernel (plan_pool.cl) does VW index computations and byte loads.  Padding never wins, as there.
//
// Work-item i writes output elements [VW i, VW i + VW).  Instance macros: X_T, VW, COUNT
// (outputs / VW), COORDS(i) (declares n, cb, oh, ow), X_VOFF(n, cb, h, w) (element offset of a
// group of VW channels), IH, IW, KH, KW, SH, SW, PH, PW, DH, DW, LOWEST.

#define VEC_OF(t, n) t##n
#define VEC(t, n) VEC_OF(t, n)
#define VLOAD_OF(n) vload##n
#define VLOAD(n) VLOAD_OF(n)
#define VSTORE_OF(n) vstore##n
#define VSTORE(n) VSTORE_OF(n)

__kernel void max_pool_vec(__global X_T *y, __global const X_T *x)
{
    const int i = get_global_id(0);
    if (i >= COUNT)
        return;
    COORDS(i)
    const int h0 = oh * SH - PH;
    const int w0 = ow * SW - PW;
    VEC(X_T, VW) best = (VEC(X_T, VW))(LOWEST);
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = h0 + kh * DH;
        if (ih < 0 || ih >= IH)
            continue;
        for (int kw = 0; kw < KW; ++kw) {
            const int iw = w0 + kw * DW;
            if (iw >= 0 && iw < IW)
                best = max(best, VLOAD(VW)(0, x + X_VOFF(n, cb, ih, iw)));
        }
    }
    VSTORE(VW)(best, 0, y + (size_t)i * VW);
}
