// AvgPool on stored integers in NHWC, CV (16 or 8) channels of TW outputs along a row per
// work-item, work-items kept apart (Intel's CPU runtime).
//
// Work-item g takes TW consecutive outputs of one row, CV channels (g runs over
// [N][OH][TILES][CB], channel blocks fastest).  The rows a window reads are located once; the
// sums down each input column the tile's windows cover are taken once, and each output adds
// KW of them.  With a work-item per output, decoding its coordinates and reading its taps
// cost Inception v2's 3x3 pools 2.5x OpenVINO's time (0.18 -> 0.08 ms for its eight).
// Sums, padding and counts as plan_pool.cl (MODE 1): a tap inside the input reads x, one in
// the padding FILL, one past the end padding 0.
// Instance macros: X_T, Y_T, CV, COUNT (work-items), C, CB (C / CV), IH, IW, OH, OW, TW,
// TILES (ceil(OW / TW)), KH, KW, SH, SW, PH, PW, PEH, PEW, FILL, EXCLUDE_PAD, EPIV(y), STOREV(y).

#define SPAN ((TW - 1) * SW + KW)  // input columns a tile's windows cover

#include "channel_sums.cl"
#include "row_tile.cl"
KEEP_WORK_ITEMS_APART
__kernel void avg_pool_rows(__global Y_T *y, __global const X_T *x, __global const float *k)
{
    const int g = get_global_id(0);
    if (g >= COUNT)
        return;
    ROW_TILE_COORDS(g)
    const int c = cb * CV;  // the first lane's channel, for the epilogue
    const int h0 = oh * SH - PH;
    const __global X_T *rows[KH];
#pragma unroll
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = h0 + kh;
        rows[kh] = ih >= 0 && ih < IH ? x + ((size_t)(n * IH + ih) * IW) * C + c : 0;
    }
    // the window rows inside the input, and those up to the end padding (taps in the padding
    // read FILL, taps past it 0)
    const int rows_in = max(0, min(h0 + KH, IH) - max(h0, 0));
    const int rows_lim = max(0, min(KH, IH + PEH - h0));
    const int stop_h = min(h0 + KH, IH + PEH);
    const int cnt_h = EXCLUDE_PAD ? min(stop_h, IH) - max(h0, 0) : stop_h - h0;
    // the sums down each input column the tile's windows cover, once: neighbouring windows
    // share columns (3x3, stride 1: 10 columns of 3 taps for 8 outputs, not 72 taps)
    const int ow0 = tile * TW, base = ow0 * SW - PW;
    SUM_T cols[SPAN];
#pragma unroll
    for (int j = 0; j < SPAN; ++j) {
        const int iw = base + j;
        SUM_T s = (SUM_T)(0);
        if (iw >= 0 && iw < IW) {
#pragma unroll
            for (int kh = 0; kh < KH; ++kh)
                if (rows[kh])
                    s += TAP(rows[kh] + iw * C);
        }
        cols[j] = s;
    }
#pragma unroll
    for (int t = 0; t < TW; ++t) {
        if (ow0 + t >= OW)
            break;
        const int w0 = base + t * SW;
        SUM_T sums = cols[t * SW];
#pragma unroll
        for (int kw = 1; kw < KW; ++kw)
            sums += cols[t * SW + kw];
        const int cols_in = max(0, min(w0 + KW, IW) - max(w0, 0));
        const int cols_lim = max(0, min(KW, IW + PEW - w0));
        sums += (SUM_T)((rows_lim * cols_lim - rows_in * cols_in) * FILL);
        const int stop_w = min(w0 + KW, IW + PEW);
        const int cnt_w = EXCLUDE_PAD ? min(stop_w, IW) - max(w0, 0) : stop_w - w0;
        const int count = max(cnt_h, 1) * max(cnt_w, 1);
        const size_t i = ((size_t)row * OW + ow0 + t) * C + c;
        STORE_MEANS(sums, count);
    }
}
