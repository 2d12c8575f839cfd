// Generic int8 MatMul (batched, broadcast, transposes, any layout): one output
// element per work-item, int32 accumulation over KDIM plus comp[c], then the
// step's epilogue.  Used where the GEMM kernels do not fit (int8 x int8
// activations, 4-D operands, transpose_a).
// Instance macros: A_T, B_T, Y_T, COUNT, COORDS(i), SKIP, A_OFF(kk), B_OFF(kk), KDIM,
// COMP, EPI(y), STORE(y), EXTRA_ARGS.

__kernel void matmul(__global Y_T *y, __global const A_T *a, __global const B_T *b,
                     __global const int *comp, __global const float *k EXTRA_ARGS)
{
    const int i = get_global_id(0);
    if (i >= COUNT)
        return;
    COORDS(i)
    if (SKIP)
        return;
    int acc = 0;
    for (int kk = 0; kk < KDIM; ++kk)
        acc += (int)a[A_OFF(kk)] * (int)b[B_OFF(kk)];
    float v = (float)(acc + COMP);
    v = EPI(v);
    y[i] = STORE(v);
}
