// Where the TM output pixels m0 .. m0+TM-1 of a GEMM tile read their windows, for the NHWC
// convolution kernels (conv_gemm_portable.cl, conv_gemm_dot.cl, conv_gemm_vnni.cl): in_base[r]
// the offset of the pixel's image and group g's first channel, (ih0[r], iw0[r]) the window's
// top-left input coordinate (may lie in the padding).  Tail rows past M recompute pixel M-1
// and are never stored.  The first pixel's coordinates take two divisions; the others step
// along the row from it, wrapping to the next row and image (a division per pixel had been
// most of a narrow layer's work beside its few multiply-adds).
#define CONV_TILE_ORIGINS(m0, g, in_base, ih0, iw0)                      \
    {                                                                    \
        int n_ = (m0) / (OH * OW);                                       \
        const int rem_ = (m0) - n_ * (OH * OW);                          \
        int oh_ = rem_ / OW;                                             \
        int ow_ = rem_ - oh_ * OW;                                       \
        _Pragma("unroll") for (int r = 0; r < TM; ++r) {                 \
            in_base[r] = n_ * (IH * IW * C) + (g) * CIN_G;               \
            ih0[r] = oh_ * SH - PH;                                      \
            iw0[r] = ow_ * SW - PW;                                      \
            if ((m0) + r + 1 < M && ++ow_ == OW) {                       \
                ow_ = 0;                                                 \
                if (++oh_ == OH) {                                       \
                    oh_ = 0;                                             \
                    ++n_;                                                \
                }                                                        \
            }                                                            \
        }                                                                \
    }
