// MaxPool on stored integers in NHWC, VW (16, 8 or 4) channels of TW outputs per work-item.
//
// Work-item g takes TW consecutive outputs of one row, VW channels (g runs over
// [N][OH][TILES][CB], channel blocks fastest).  The rows a window reads are located once, and
// each tap is a load at the row's pointer plus a column offset: the per-output index arithmetic
// of plan_max_pool_vec.cl set its time (GoogLeNet's pools: 2-3x OpenVINO's).  Padding never
// wins.  Instance macros: X_T, VW, COUNT (work-items), C, CB (C / VW), IH, IW, OH, OW, TW, TILES
// (ceil(OW / TW)), KH, KW, SH, SW, PH, PW, DH, DW, LOWEST.

#include "row_tile.cl"

#define VCAT_(a, b) a##b
#define VCAT(a, b) VCAT_(a, b)

__kernel void max_pool_rows(__global X_T *y, __global const X_T *x)
{
    const int g = get_global_id(0);
    if (g >= COUNT)
        return;
    ROW_TILE_COORDS(g)
    const __global X_T *rows[KH];
#pragma unroll
    for (int kh = 0; kh < KH; ++kh) {
        const int ih = oh * SH - PH + kh * DH;
        rows[kh] = ih >= 0 && ih < IH ? x + ((size_t)(n * IH + ih) * IW) * C + cb * VW : 0;
    }
    const int ow0 = tile * TW;
    __global X_T *out = y + ((size_t)row * OW) * C + cb * VW;
    for (int t = 0; t < TW && ow0 + t < OW; ++t) {
        const int w0 = (ow0 + t) * SW - PW;
        VCAT(X_T, VW) best = (VCAT(X_T, VW))(LOWEST);
#pragma unroll
        for (int kh = 0; kh < KH; ++kh) {
            if (!rows[kh])
                continue;
#pragma unroll
            for (int kw = 0; kw < KW; ++kw) {
                const int iw = w0 + kw * DW;
                if (iw >= 0 && iw < IW)
                    best = max(best, VCAT(vload, VW)(0, rows[kh] + iw * C));
            }
        }
        VCAT(vstore, VW)(best, 0, out + (size_t)(ow0 + t) * C);
    }
}
