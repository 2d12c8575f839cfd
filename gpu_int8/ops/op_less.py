"""Less: a < b with NumPy broadcasting; boolean result."""

import numpy as np

from gpu_int8.ops.elementwise import _Comparison


class Less(_Comparison):
    ufunc = np.less
