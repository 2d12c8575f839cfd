// Direct int8 convolution in any layout: grouped and depthwise, strides,
// dilation, padding that reads the activation zero point (PAD_VALUE); int32
// accumulation plus comp[c], then the step's full epilogue.  The scheduler uses
// it where no tuned kernel family fits (depthwise without a family kernel,
// layouts the family kernels do not take, residual inputs broadcast differently).
//
// One work-item: OCB consecutive output channels (one group) of one output pixel.
//   global = (COUT / OCB, N * OH * OW)
// Weights: int8 [COUT][KH][KW][CIN_G].
// Instance macros: X_T, Y_T, N, IH, IW, OH, OW, KH, KW, SH, SW, PH, PW, DH, DW, CIN_G,
// COUT_G, COUT, OCB, PAD_VALUE, X_OFF(n,c,h,w), Y_OFF(n,c,h,w), COMP(c),
// EPI(y, c, n, oh, ow), STORE(y), EXTRA_ARGS.

__kernel void conv_direct(__global Y_T *y, __global const X_T *x, __global const char *w,
                          __global const int *comp, __global const float *k EXTRA_ARGS)
{
    const int cb = get_global_id(0);
    const int p = get_global_id(1);
    if (cb >= COUT / OCB || p >= N * OH * OW)
        return;
    const int n = p / (OH * OW);
    const int rem = p - n * (OH * OW);
    const int oh = rem / OW;
    const int ow = rem - oh * OW;
    const int co0 = cb * OCB;
    const int ci0 = (co0 / COUT_G) * CIN_G;
    int acc[OCB];
    for (int j = 0; j < OCB; ++j)
        acc[j] = 0;
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = oh * SH - PH + kh * DH;
        const bool in_h = ih >= 0 && ih < IH;
        for (int kw = 0; kw < KW; ++kw) {
            const int iw = ow * SW - PW + kw * DW;
            const bool inside = in_h && iw >= 0 && iw < IW;
            const __global char *wk = w + ((co0 * KH + kh) * KW + kw) * CIN_G;
            for (int ci = 0; ci < CIN_G; ++ci) {
                const int xv = inside ? (int)x[X_OFF(n, ci0 + ci, ih, iw)] : PAD_VALUE;
                for (int j = 0; j < OCB; ++j)
                    acc[j] += xv * (int)wk[j * (KH * KW * CIN_G) + ci];
            }
        }
    }
    for (int j = 0; j < OCB; ++j) {
        const int c = co0 + j;
        float v = (float)(acc[j] + COMP(c));
        v = EPI(v, c, n, oh, ow);
        y[Y_OFF(n, c, oh, ow)] = STORE(v);
    }
}
