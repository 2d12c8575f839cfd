// ReduceMean on stored integers: integer sum over the reduced axes, then
// y = (float)sum / (float)COUNT_R (correctly rounded) and the step's epilogue.
// One work-item per physical output element; the reduced axes are loops.
// CV=16 (Intel's CPU runtime, channels innermost and not reduced, a multiple of 16):
// one work-item per 16 consecutive channels, its sums one vector of 16 and its loads
// vectors of 16 bytes; work-items kept apart (across work-items the compiler cannot
// tell the channels are consecutive and gathers bytes: PP-OCRv4 rec's global average
// pool over 480 channels of 5 x 6 x 240, 0.80 ms in the one-output form).  EPI then reads
// lane j's constants (the host writes j into its channel expression).
//
// Instance macros: X_T, Y_T, COUNT, COORDS(i), SKIP, LOOPS (opens one for-loop per
// reduced axis), LOOPS_END, X_OFF (offset from output coordinates and loop
// variables), COUNT_R (elements summed), EPI(y), STORE(y), CV.

#ifndef CV
#define CV 1
#endif

#if CV == 16
__attribute__((intel_reqd_sub_group_size(1)))
#endif
__kernel void reduce_mean(__global Y_T *y, __global const X_T *x, __global const float *k)
{
    const int i = get_global_id(0) * CV;
    if (i >= COUNT)
        return;
    COORDS(i)
    if (SKIP)
        return;
#if CV == 16
    int16 sums = (int16)(0);
    LOOPS
        sums += convert_int16(vload16(0, x + X_OFF));
    LOOPS_END
    int s[16];
    vstore16(sums, 0, s);
    for (int j = 0; j < 16; ++j) {
        float v = PLAN_DIV((float)s[j], (float)COUNT_R);
        v = EPI(v);
        y[i + j] = STORE(v);
    }
#else
    int sum = 0;
    LOOPS
        sum += (int)x[X_OFF];
    LOOPS_END
    float v = PLAN_DIV((float)sum, (float)COUNT_R);
    v = EPI(v);
    y[i] = STORE(v);
#endif
}
