// Integer sums of CV consecutive channels (1, 8 or 16) in one vector, for the pooling
// kernels (plan_pool.cl, plan_reduce.cl); with CV > 1 the kernel keeps its work-items
// apart (Intel's CPU runtime) and is vectorized along its own channels.
//   SUM_T        the sums: int, int8 or int16
//   TAP(p)       the CV bytes at p, widened
//   STORE_MEANS(sums, count)  y[i + j] = STORE(EPI(sums[j] / count)) for each lane j
//                (EPI's channel expression names j)

#ifndef CV
#define CV 1
#endif

#if CV == 16
#define SUM_T int16
#define TAP(p) convert_int16(vload16(0, p))
#define STORE_LANES(v, p) vstore16(v, 0, p)
#elif CV == 8
#define SUM_T int8
#define TAP(p) convert_int8(vload8(0, p))
#define STORE_LANES(v, p) vstore8(v, 0, p)
#else
#define SUM_T int
#define TAP(p) ((int)*(p))
#endif

#define STORE_MEANS(sums, count)                                    \
    {                                                               \
        int lanes_[CV];                                             \
        STORE_LANES(sums, lanes_);                                  \
        for (int j = 0; j < CV; ++j) {                              \
            float v_ = PLAN_DIV((float)lanes_[j], (float)(count));  \
            v_ = EPI(v_);                                           \
            y[i + j] = STORE(v_);                                   \
        }                                                           \
    }

#if CV > 1
#define KEEP_WORK_ITEMS_APART __attribute__((intel_reqd_sub_group_size(1)))
#else
#define KEEP_WORK_ITEMS_APART
#endif
