// Integer sums of CV consecutive channels (1, 8 or 16) in one vector, for the pooling
// kernels (plan_pool.cl, plan_reduce.cl); with CV > 1 the kernel keeps its work-items
// apart (Intel's CPU runtime) and is vectorized along its own channels.
//   SUM_T        the sums: int, int8 or int16
//   TAP(p)       the CV bytes at p, widened
//   STORE_MEANS(sums, count)  y[i .. i+CV-1] = STOREV(EPIV(sums / count)), the means correctly
//                rounded, and the epilogue on all lanes at once (EPIV and STOREV: the host's
//                CV-wide forms; one lane at a time, the divisions took Inception v2's 3x3
//                average pools 3x OpenVINO's time).  Where the device has doubles, each sum
//                times the double 1/count: two integers below 2^24 never divide to a float
//                midpoint, nor come within 2^-45 of one relative to the quotient, and the
//                product is within 2^-52 of it, so the float it rounds to is the correctly
//                rounded quotient (a vector of divisions took 3x the time)

#ifndef CV
#define CV 1
#endif

#if CV == 16
#define SUM_T int16
#define TAP(p) convert_int16(vload16(0, p))
#define MEAN_CAT(a) a##16
#elif CV == 8
#define SUM_T int8
#define TAP(p) convert_int8(vload8(0, p))
#define MEAN_CAT(a) a##8
#else
#define SUM_T int
#define TAP(p) ((int)*(p))
#endif

#if CV > 1
#if defined(cl_khr_fp64)
#define MEANS(sums, count) MEAN_CAT(convert_float)(MEAN_CAT(convert_double)(sums) * (1.0 / (double)(count)))
#else
#define MEANS(sums, count) (MEAN_CAT(convert_float)(sums) / (float)(count))
#endif
#define STORE_MEANS(sums, count) MEAN_CAT(vstore)(STOREV(EPIV(MEANS(sums, count))), 0, y + i)
#endif

#if CV > 1
#define KEEP_WORK_ITEMS_APART __attribute__((intel_reqd_sub_group_size(1)))
#else
#define KEEP_WORK_ITEMS_APART
#endif
