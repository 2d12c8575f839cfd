// int8 MatMul of two row-major operands, A [..., M, K] x B [..., K, N] (B not
// transposed): each work-item computes NB consecutive outputs of one row, so it
// reads each A element once for NB products and B's rows NB bytes at a time
// (8-wide vectors where NB is a multiple of 8), where plan_matmul.cl's one output
// per work-item re-reads A for each.  int32 accumulation plus comp[c], then the
// step's epilogue.  KEEP_WI=1 (Intel's CPU runtime) keeps work-items apart: the
// kernel's own vectors and loops are what the compiler vectorizes (across
// work-items, B's rows would become gathers; PP-OCRv4 rec's attention times
// values, 15 outputs per row: 1.6 -> 0.4 ms).
// Instance macros: A_T, B_T, Y_T, COUNT, COORDS(i) (batch coordinates, m, and
// the chunk index d_n), NB, A_ROW, B_COL0, B_STRIDE, Y_ROW0, KDIM, COMP(n),
// EPI(y, n), STORE(y), EXTRA_ARGS, KEEP_WI.

#if KEEP_WI
__attribute__((intel_reqd_sub_group_size(1)))
#endif
__kernel void matmul_rows(__global Y_T *y, __global const A_T *a, __global const B_T *b,
                          __global const int *comp, __global const float *k EXTRA_ARGS)
{
    const int i = get_global_id(0);
    if (i >= COUNT)
        return;
    COORDS(i)
    const int n0 = d_n * NB;
    const __global A_T *arow = a + A_ROW;
    const __global B_T *bcol = b + B_COL0 + n0;
#if NB % 8 == 0
    int8 vacc[NB / 8];
    for (int v = 0; v < NB / 8; ++v)
        vacc[v] = (int8)(0);
    for (int kk = 0; kk < KDIM; ++kk) {
        const int av = (int)arow[kk];
        for (int v = 0; v < NB / 8; ++v)
            vacc[v] += av * convert_int8(vload8(v, bcol + kk * B_STRIDE));
    }
    int acc[NB];
    for (int v = 0; v < NB / 8; ++v)
        vstore8(vacc[v], v, acc);
#else
    int acc[NB];
    for (int j = 0; j < NB; ++j)
        acc[j] = 0;
    for (int kk = 0; kk < KDIM; ++kk) {
        const int av = (int)arow[kk];
        const __global B_T *brow = bcol + kk * B_STRIDE;
        for (int j = 0; j < NB; ++j)
            acc[j] += av * (int)brow[j];
    }
#endif
    __global Y_T *yrow = y + Y_ROW0 + n0;
    for (int j = 0; j < NB; ++j) {
        const int n = n0 + j;
        float v = (float)(acc[j] + COMP(n));
        v = EPI(v, n);
        yrow[j] = STORE(v);
    }
}
