// Float Softmax along the last axis of a plain float32 tensor, for Intel's CPU runtime:
// y = exp(x - max) / sum(exp(x - max)), one work-item per row walking it in vectors of 16,
// work-items kept apart.  plan_softmax.cl spreads a row over a group of 16 work-items
// instead, and its two reductions through local memory cost more than the row itself on
// a CPU (PP-OCRv4 rec's attention, 4800 rows of 120: 0.70 ms that way).
// Instance macros: ROWS, AXIS_LEN.

#define FULL (AXIS_LEN / 16 * 16)  // elements in whole vectors; the rest one by one

inline float lanes_max(float16 v)
{
    const float8 a = fmax(v.lo, v.hi);
    const float4 b = fmax(a.lo, a.hi);
    const float2 c = fmax(b.lo, b.hi);
    return fmax(c.lo, c.hi);
}

inline float lanes_sum(float16 v)
{
    const float8 a = v.lo + v.hi;
    const float4 b = a.lo + a.hi;
    const float2 c = b.lo + b.hi;
    return c.lo + c.hi;
}

__attribute__((intel_reqd_sub_group_size(1)))
__kernel void softmax_rows(__global float *y, __global const float *x)
{
    const int r = get_global_id(0);
    if (r >= ROWS)
        return;
    const __global float *xr = x + (size_t)r * AXIS_LEN;
    __global float *yr = y + (size_t)r * AXIS_LEN;
    float16 m16 = (float16)(-INFINITY);
    for (int j = 0; j < FULL; j += 16)
        m16 = fmax(m16, vload16(0, xr + j));
    float m = lanes_max(m16);
    for (int j = FULL; j < AXIS_LEN; ++j)
        m = fmax(m, xr[j]);
    float16 s16 = (float16)(0.0f);
    for (int j = 0; j < FULL; j += 16) {
        const float16 e = exp(vload16(0, xr + j) - m);
        vstore16(e, 0, yr + j);
        s16 += e;
    }
    float s = lanes_sum(s16);
    for (int j = FULL; j < AXIS_LEN; ++j) {
        const float e = exp(xr[j] - m);
        yr[j] = e;
        s += e;
    }
    for (int j = 0; j < FULL; j += 16)
        vstore16(vload16(0, yr + j) / s, 0, yr + j);
    for (int j = FULL; j < AXIS_LEN; ++j)
        yr[j] = yr[j] / s;
}
