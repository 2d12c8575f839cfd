// Quantize float32 -> u8/i8 and dequantize u8/i8 -> float32, per channel, over any layout.
//   quantize:   q = sat(rint(x * m[c] + b[c]))   (m = 1/scale, b = zero point), clamped to [lo, hi]
//   dequantize: f = (float)(q - zp[c]) * scale[c]
//
//   global = (physical element count)
//
// Build-time macros: Q_T (uchar/char), OUT_T (= Q_T for quantize), OUT_MODE, LAYOUT, C, H, W.

#include "requant.cl"
#include "layout.cl"

__kernel void quantize(__global const float *x, __global OUT_T *y, __global const float *mscale,
                       __global const float *bias, int N, int lo, int hi)
{
    const size_t i = get_global_id(0);
    if (i >= tensor_size(LAYOUT, N, C, H, W))
        return;
    const int c = tensor_channel(LAYOUT, i, C, H, W);
    y[i] = c < 0 ? (OUT_T)0 : rq_out_f(rq_affine_f(x[i], mscale[c], bias[c]), lo, hi);
}

__kernel void dequantize(__global const Q_T *q, __global float *y, __global const int *zp,
                         __global const float *scale, int N)
{
    const size_t i = get_global_id(0);
    if (i >= tensor_size(LAYOUT, N, C, H, W))
        return;
    const int c = tensor_channel(LAYOUT, i, C, H, W);
    y[i] = c < 0 ? 0.0f : (float)((int)q[i] - zp[c]) * scale[c];
}
