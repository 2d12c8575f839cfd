// Depthwise taps on AVX-512 VNNI (Intel's CPU runtime): the accumulation of dwconv_portable.cl
// with DW_VNNI=1, for 16 channels (CV=16) of TW pixels in one output row.
//
// vpdpbusd adds four u8 x i8 products per 32-bit lane, and a depthwise output channel has only
// its own taps to add: the four bytes of a lane are four kernel rows (kh = 4g .. 4g+3) of one
// channel at one input column.  Those words are built once per input column of the tile (16
// channels of four input rows, shifted into place) and serve every (pixel, kw) pair that reads
// that column: with stride 1, KW of them.  A 5x5 window takes 2 x 5 vpdpbusd per pixel where
// plain multiply-adds take 25 multiplies and 25 adds.  Kernel rows past KH have zero weights.
//
// Weights: int32 [NG][KW][C], NG = ceil(KH/4); word c holds rows 4g .. 4g+3 of channel c at kw.
// Signed activations (ACT_FLIP=1) are read as x + 128; the host takes 128 * sum(w[c]) off comp.

#include "vnni.cl"

#define DW_GROUPS ((KH + 3) / 4)
#define DW_COLS ((TW - 1) * SW + (KW - 1) * DW + 1)  // input columns a tile of TW pixels reads

#if ACT_FLIP
#define DW_FLIP(v) ((v) ^ (int16)((int)0x80808080))
#else
#define DW_FLIP(v) (v)
#endif

// acc[t] += the window of pixel t (ow0 + t) over 16 channels at c0; img is the image's first
// byte, rows/columns outside the input read pad_row (the zero point).  checked = false where
// the whole tile's windows lie inside the input (then no tap needs a bounds check).
inline void dw_vnni_accumulate(int16 *acc, const __global uchar *img, const __global int *w,
                               const __global uchar *pad_row, int c0, int ih0, int iw0, const bool checked)
{
#pragma unroll
    for (int g = 0; g < DW_GROUPS; ++g) {
        int16 wv[KW];
#pragma unroll
        for (int kw = 0; kw < KW; ++kw)
            wv[kw] = vload16(0, w + (g * KW + kw) * C + c0);
        const __global uchar *rows[4];
#pragma unroll
        for (int r = 0; r < 4; ++r) {
            const int ih = ih0 + (4 * g + r) * DH;
            rows[r] = !checked || (ih >= 0 && ih < IH) ? img + (size_t)ih * IW * C + c0 : 0;
        }
#pragma unroll
        for (int j = 0; j < DW_COLS; ++j) {
            const int iw = iw0 + j;
            const bool col_inside = !checked || (iw >= 0 && iw < IW);
            int16 col = (int16)(0);
#pragma unroll
            for (int r = 0; r < 4; ++r) {
                if (4 * g + r < KH) {
                    const __global uchar *src = rows[r] && col_inside ? rows[r] + iw * C : pad_row + c0;
                    col |= convert_int16(vload16(0, src)) << (8 * r);
                }
            }
            col = DW_FLIP(col);
#pragma unroll
            for (int kw = 0; kw < KW; ++kw) {
                const int d = j - kw * DW;  // pixel t reads column t * SW + kw * DW
                if (d >= 0 && d % SW == 0 && d / SW < TW)
                    acc[d / SW] = VNNI(acc[d / SW], col, wv[kw]);
            }
        }
    }
}
