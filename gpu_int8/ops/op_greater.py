"""Greater: a > b with NumPy broadcasting; boolean result."""

import numpy as np

from gpu_int8.ops.elementwise import _Comparison


class Greater(_Comparison):
    ufunc = np.greater
