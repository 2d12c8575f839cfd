// Direct int8 transposed convolution (ConvolutionBackpropData, grouped too) in any
// layout: out[n][co][oh][ow] sums x[n][ci][ih][iw] * w[g][ci][co][kh][kw] over the
// taps with ih * SH + kh * DH == oh + PH (and the same along w); int32
// accumulation plus comp[c], then the step's epilogue.  One output element per
// work-item: global = (COUT, N * OH * OW).
// Weights: int8 [G][CIN_G][COUT_G][KH][KW] (OpenVINO's order).
// Instance macros: as plan_conv_direct.cl, without PAD_VALUE and OCB.

__kernel void deconv_direct(__global Y_T *y, __global const X_T *x, __global const char *w,
                            __global const int *comp, __global const float *k EXTRA_ARGS)
{
    const int c = get_global_id(0);
    const int p = get_global_id(1);
    if (c >= COUT || p >= N * OH * OW)
        return;
    const int n = p / (OH * OW);
    const int rem = p - n * (OH * OW);
    const int oh = rem / OW;
    const int ow = rem - oh * OW;
    const int g = c / COUT_G;
    const int cg = c - g * COUT_G;
    int acc = 0;
    // only taps with kh == (oh + PH) mod SH can land on oh (undilated kernels)
    const int kh0 = DH == 1 ? (oh + PH) % SH : 0, kh_step = DH == 1 ? SH : 1;
    const int kw0 = DW == 1 ? (ow + PW) % SW : 0, kw_step = DW == 1 ? SW : 1;
    for (int kh = kh0; kh < KH; kh += kh_step) {
        const int th = oh + PH - kh * DH;
        if (th < 0 || th % SH)
            continue;
        const int ih = th / SH;
        if (ih >= IH)
            continue;
        for (int kw = kw0; kw < KW; kw += kw_step) {
            const int tw = ow + PW - kw * DW;
            if (tw < 0 || tw % SW)
                continue;
            const int iw = tw / SW;
            if (iw >= IW)
                continue;
            for (int ci = 0; ci < CIN_G; ++ci) {
                const int wi = (((g * CIN_G + ci) * COUT_G + cg) * KH + kh) * KW + kw;
                acc += (int)x[X_OFF(n, g * CIN_G + ci, ih, iw)] * (int)w[wi];
            }
        }
    }
    float v = (float)(acc + COMP(c));
    v = EPI(v, c, n, oh, ow);
    y[Y_OFF(n, c, oh, ow)] = STORE(v);
}
