// A squeeze-and-excitation gate in one work-group per image (compile/se_gate.py):
//   m[c] = R(mean over the pixels of x[n, c])        (the ReduceMean step; or read, stored)
//   a[j] = A(comp_a[j] + sum_c wa[j, c] * m[c])      (a 1x1 convolution on 1x1 pixels)
//   y[c] = B(comp_b[c] + sum_j wb[c, j] * a[j])      (another: the gate)
// R, A and B are the steps' epilogues, each stored in its step's type: the same integers as
// the three kernels they replace, in one launch instead of three (each of these took a few
// microseconds of device time and as many to enqueue).  m and a live in local memory.
//
// Instance macros:
//   X_T, M_T, A_T, Y_T   element types of x (or of the stored means), m, a, y
//   C, CA                the channels of x (and y), of a
//   MEAN                 1: the means come from x (HW pixels, X_OFF(n,c,p) the offset of pixel p
//                        of channel c); 0: x holds them already, stored by the ReduceMean
//   HW, X_OFF(n,c,p)     (MEAN 1)
//   M_OFF(n,c), Y_OFF(n,c)   offsets of the stored means (MEAN 0) and of the gate's elements
//   EPI_R(v,c), STORE_R(v), EPI_A(v,j), STORE_A(v), EPI_B(v,c), STORE_B(v)   the epilogues
//                        and conversions to each step's type
// Weights are transposed for the work-items (lanes): wa [C][CA], wb [CA][C].

__kernel void se_gate(__global Y_T *y, __global const X_T *x, __global const uchar *params)
{
    // the constants, packed at the byte offsets *_AT (gpu_int8/scheduler/const_pack.py)
    const __global char *wa = (const __global char *)(params + WA_AT);
    const __global int *comp_a = (const __global int *)(params + COMP_A_AT);
    const __global char *wb = (const __global char *)(params + WB_AT);
    const __global int *comp_b = (const __global int *)(params + COMP_B_AT);
#if MEAN
    const __global float *kr = (const __global float *)(params + KR_AT);
#endif
    const __global float *ka = (const __global float *)(params + KA_AT);
    const __global float *kb = (const __global float *)(params + KB_AT);
    __local int m[C];
    __local int a[CA];
    const int n = get_group_id(0), l = get_local_id(0), step = get_local_size(0);
    for (int c = l; c < C; c += step) {
#if MEAN
        int sum = 0;
        for (int p = 0; p < HW; ++p)
            sum += (int)x[X_OFF(n, c, p)];
        m[c] = (int)(M_T)STORE_R(EPI_R(PLAN_DIV((float)sum, (float)HW), c));
#else
        m[c] = (int)x[M_OFF(n, c)];
#endif
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int j = l; j < CA; j += step) {
        int acc = comp_a[j];
        for (int c = 0; c < C; ++c)
            acc += (int)wa[c * CA + j] * m[c];
        a[j] = (int)(A_T)STORE_A(EPI_A((float)acc, j));
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int c = l; c < C; c += step) {
        int acc = comp_b[c];
        for (int j = 0; j < CA; ++j)
            acc += (int)wb[j * C + c] * a[j];
        y[Y_OFF(n, c)] = STORE_B(EPI_B((float)acc, c));
    }
}
