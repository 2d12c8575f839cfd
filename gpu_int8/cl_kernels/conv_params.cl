// A convolution's constants in one buffer, `params` (packed by gpu_int8/scheduler/const_pack.py):
// each part at the byte offset its program is built with (W_AT, COMP_AT, MSCALE_AT, BIAS_AT,
// PAD_AT, and EPI_K_AT with a generated epilogue).  One buffer argument instead of six: the
// runtime's enqueue looks up every buffer a launch names.
//
// CONV_PARAMS(W_T) declares, at the top of a kernel taking `params`:
//   w        the packed weights, as W_T elements
//   comp     int32 per output channel (the zero points' compensation)
//   mscale   float per output channel
//   bias     float per output channel
//   pad_row  the activation zero point, once per input channel (what padded taps read)
//   epi_k    the generated epilogue's constants (OUT_MODE 3)

#ifdef EPI_K_AT
#define CONV_EPI_PARAMS const __global float *epi_k = (const __global float *)(params + EPI_K_AT);
#else
#define CONV_EPI_PARAMS
#endif

#define CONV_PARAMS(W_T)                                                         \
    const __global W_T *w = (const __global W_T *)(params + W_AT);               \
    const __global int *comp = (const __global int *)(params + COMP_AT);         \
    const __global float *mscale = (const __global float *)(params + MSCALE_AT); \
    const __global float *bias = (const __global float *)(params + BIAS_AT);     \
    const __global ACT_T *pad_row = (const __global ACT_T *)(params + PAD_AT);   \
    CONV_EPI_PARAMS
