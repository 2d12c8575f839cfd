// ReduceMean on stored integers: integer sum over the reduced axes, then
// y = (float)sum / (float)COUNT_R (correctly rounded) and the step's epilogue.
// One work-item per physical output element; the reduced axes are loops.
//
// Instance macros: X_T, Y_T, COUNT, COORDS(i), SKIP, LOOPS (opens one for-loop per
// reduced axis), LOOPS_END, X_OFF (offset from output coordinates and loop
// variables), COUNT_R (elements summed), EPI(y), STORE(y).

__kernel void reduce_mean(__global Y_T *y, __global const X_T *x, __global const float *k)
{
    const int i = get_global_id(0);
    if (i >= COUNT)
        return;
    COORDS(i)
    if (SKIP)
        return;
    int sum = 0;
    LOOPS
        sum += (int)x[X_OFF];
    LOOPS_END
    float v = PLAN_DIV((float)sum, (float)COUNT_R);
    v = EPI(v);
    y[i] = STORE(v);
}
