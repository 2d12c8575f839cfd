// plan_se_gate.cl's squeeze-and-excitation gate of one image, VW channels at a time, by one
// work-item into local memory: the prologue of plan_eltwise8.cl where it multiplies the tensor
// by the gate (SE_GATE, compile/se_gate.py).  The sums are integers, exact in any order (the
// means' are taken pixel by pixel along the tensor, in m), and each lane runs the scalar
// kernel's float operations, so the gate holds the same integers.
//
// Instance macros: VW; G_X_T the type of x (the tensor, NHWC, G_HW pixels), G_T the gate's;
// G_C, G_CA (a's channels padded to VW); the VW-wide epilogues and conversions G_EPI_R(v,c),
// G_STORE_R(v), G_EPI_A(v,j), G_STORE_A(v), G_EPI_B(v,c), G_STORE_B(v); the byte offsets G*_AT of the
// constants in gp: weights wa [C][CA] and wb [CA][C], comp_a, comp_b, and the epilogues' kr,
// ka, kb (each padded by VW floats: a's lanes past CA read them, and are multiplied by zero).

#define CV VW
#include "channel_sums.cl"
#define GVEC(a) MEAN_CAT(a)

inline void se_gate_vec(__local G_T *g, __local int *m, __local int *a, __global const G_X_T *x,
                        __global const uchar *gp)
{
    const __global char *wa = (const __global char *)(gp + GWA_AT);
    const __global int *comp_a = (const __global int *)(gp + GCOMP_A_AT);
    const __global char *wb = (const __global char *)(gp + GWB_AT);
    const __global int *comp_b = (const __global int *)(gp + GCOMP_B_AT);
    const __global float *kr = (const __global float *)(gp + GKR_AT);
    const __global float *ka = (const __global float *)(gp + GKA_AT);
    const __global float *kb = (const __global float *)(gp + GKB_AT);
    for (int c = 0; c < G_C; c += VW)
        GVEC(vstore)((SUM_T)(0), 0, m + c);
    for (int p = 0; p < G_HW; ++p)
        for (int c = 0; c < G_C; c += VW)
            GVEC(vstore)(GVEC(vload)(0, m + c) + TAP(x + p * G_C + c), 0, m + c);
    for (int c = 0; c < G_C; c += VW) {
        const SUM_T s = GVEC(vload)(0, m + c);
        GVEC(vstore)(GVEC(convert_int)(G_STORE_R(G_EPI_R(MEANS(s, G_HW), c))), 0, m + c);
    }
    for (int j = 0; j < G_CA; j += VW) {
        SUM_T acc = GVEC(vload)(0, comp_a + j);
        for (int c = 0; c < G_C; ++c)
            acc += GVEC(convert_int)(GVEC(vload)(0, wa + c * G_CA + j)) * m[c];
        GVEC(vstore)(GVEC(convert_int)(G_STORE_A(G_EPI_A(GVEC(convert_float)(acc), j))), 0, a + j);
    }
    for (int c = 0; c < G_C; c += VW) {
        SUM_T acc = GVEC(vload)(0, comp_b + c);
        for (int j = 0; j < G_CA; ++j)
            acc += GVEC(convert_int)(GVEC(vload)(0, wb + j * G_C + c)) * a[j];
        GVEC(vstore)(G_STORE_B(G_EPI_B(GVEC(convert_float)(acc), c)), 0, g + c);
    }
}
