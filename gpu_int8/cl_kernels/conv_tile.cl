// Where the TM output pixels m0 .. m0+TM-1 of a GEMM tile read their windows, for the NHWC
// convolution kernels (conv_gemm_portable.cl, conv_gemm_dot.cl): in_base[r] the offset of
// the pixel's image and group g's first channel, (ih0[r], iw0[r]) the window's top-left
// input coordinate (may lie in the padding).  Tail rows past M recompute pixel M-1 and
// are never stored.
#define CONV_TILE_ORIGINS(m0, g, in_base, ih0, iw0)                      \
    _Pragma("unroll") for (int r = 0; r < TM; ++r) {                     \
        const int m = min((m0) + r, M - 1);                              \
        const int n = m / (OH * OW);                                     \
        const int rem = m - n * (OH * OW);                               \
        const int oh = rem / OW;                                         \
        const int ow = rem - oh * OW;                                    \
        in_base[r] = n * (IH * IW * C) + (g) * CIN_G;                    \
        ih0[r] = oh * SH - PH;                                           \
        iw0[r] = ow * SW - PW;                                           \
    }
