// im2col for the dot-product GEMM: gathers each output pixel's receptive field into one
// contiguous row, so a KxK convolution becomes a 1x1 convolution whose dot products run
// over all KH*KW*CIN_G terms at once (conv_gemm_dot.cl reduces each run separately).
//
// x NHWC (ACT_T) -> cols [M][G][KP] u8, M = N*OH*OW, a group's row holding its
// [KH][KW][CIN_G] window, zero-filled from KH*KW*CIN_G up to KP (a multiple of 16, so
// the GEMM's vectorized loop has no remainder; the matching weights are zero).  Taps
// outside the input read the zero point (pad_row).  ACT_FLIP=1 stores signed
// activations as x ^ 0x80 (= x + 128, see conv_gemm_dot.cl).  A kernel row inside the
// input is one run of KW*C bytes of NHWC (one group, no dilation): copied as one.
//   global = (G, M): one work-item gathers one pixel's window of one group.
//
// Build-time macros: ACT_T, ACT_FLIP, NO_WI_VECTORIZE, KP, IH, IW, C, OH, OW, KH, KW, SH,
// SW, PH, PW, DH, DW, CIN_G.

#if ACT_FLIP
#define ACT_U8(v) ((uchar)(v) ^ (uchar)0x80)
#else
#define ACT_U8(v) ((uchar)(v))
#endif

#if NO_WI_VECTORIZE
__attribute__((intel_reqd_sub_group_size(1)))  // copy loops vectorized within a work-item
#endif
__kernel void im2col(__global const ACT_T *x, __global uchar *cols, __global const ACT_T *pad_row, int M)
{
    const int g = get_global_id(0);
    const int m = get_global_id(1);
    if (m >= M || g >= C / CIN_G)
        return;
    const int n = m / (OH * OW);
    const int rem = m - n * (OH * OW);
    const int oh = rem / OW;
    const int ow = rem - oh * OW;
    __global uchar *dst = cols + ((size_t)m * (C / CIN_G) + g) * KP;
    const int iw0 = ow * SW - PW;
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = oh * SH - PH + kh * DH;
#if DW == 1 && CIN_G == C
        // the whole kernel row inside the input: KW*C contiguous bytes, copied as one run
        if (ih >= 0 && ih < IH && iw0 >= 0 && iw0 + KW <= IW) {
            const __global ACT_T *src = x + ((size_t)(n * IH + ih) * IW + iw0) * C;
            for (int k = 0; k < KW * C; ++k)
                dst[k] = ACT_U8(src[k]);
            dst += KW * C;
            continue;
        }
#endif
        for (int kw = 0; kw < KW; ++kw) {
            const int iw = iw0 + kw * DW;
            const bool inside = ih >= 0 && ih < IH && iw >= 0 && iw < IW;
            const __global ACT_T *src = inside ? x + ((size_t)(n * IH + ih) * IW + iw) * C + g * CIN_G : pad_row;
            for (int ci = 0; ci < CIN_G; ++ci)
                dst[ci] = ACT_U8(src[ci]);
            dst += CIN_G;
        }
    }
    for (int k = KH * KW * CIN_G; k < KP; ++k)
        *dst++ = 0;
}
