// Elementwise add of two int8 tensors with requantization, over any layout (both
// operands and the output share it; see layout.cl):
//   q = sat(rint((a * ma[c] + b * mb[c]) + bias[c])), clamped to [lo, hi]
// float32, each operation rounded on its own (no fused multiply-add).
// Zero points are folded into bias[c] by the caller.
//
//   global = (physical element count)
//
// Build-time macros: A_T, B_T, OUT_T, OUT_MODE, LAYOUT, C, H, W.

#include "requant.cl"
#include "layout.cl"

__kernel void eltwise_add(__global const A_T *a, __global const B_T *b, __global OUT_T *y,
                          __global const float *ma, __global const float *mb, __global const float *bias,
                          int N, int lo, int hi)
{
#pragma OPENCL FP_CONTRACT OFF
    const size_t i = get_global_id(0);
    if (i >= tensor_size(LAYOUT, N, C, H, W))
        return;
    const int c = tensor_channel(LAYOUT, i, C, H, W);
    if (c < 0) {  // fsv16 padding channel
        y[i] = (OUT_T)0;
        return;
    }
    const float ta = (float)a[i] * ma[c];
    const float tb = (float)b[i] * mb[c];
    const float s = ta + tb;
    y[i] = rq_out_f(s + bias[c], lo, hi);
}
