// ReduceMean on stored integers: integer sum over the reduced axes, then
// y = (float)sum / (float)COUNT_R (correctly rounded) and the step's epilogue.
// One work-item per physical output element; the reduced axes are loops.
// CV=16 or 8 (Intel's CPU runtime, channels innermost and not reduced, a multiple of CV):
// one work-item per CV consecutive channels, its sums one vector and its loads vectors
// of CV bytes; work-items kept apart (across work-items the compiler cannot tell the
// channels are consecutive and gathers bytes: PP-OCRv4 rec's global average pool over
// 480 channels of 5 x 6 x 240, 0.80 ms in the one-output form, 0.09 with CV=16).  The
// epilogue then runs on the CV lanes at once (EPIV, STOREV).
//
// Instance macros: X_T, Y_T, COUNT, COORDS(i), SKIP, LOOPS (opens one for-loop per
// reduced axis), LOOPS_END, X_OFF (offset from output coordinates and loop
// variables), COUNT_R (elements summed), EPI(y), STORE(y) (with CV > 1: EPIV(y), STOREV(y)), CV.

#include "channel_sums.cl"
KEEP_WORK_ITEMS_APART
__kernel void reduce_mean(__global Y_T *y, __global const X_T *x, __global const float *k)
{
    const int i = get_global_id(0) * CV;
    if (i >= COUNT)
        return;
    COORDS(i)
    if (SKIP)
        return;
#if CV > 1
    SUM_T sums = (SUM_T)(0);
    LOOPS
        sums += TAP(x + X_OFF);
    LOOPS_END
    STORE_MEANS(sums, COUNT_R);
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
