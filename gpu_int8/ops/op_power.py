"""Power: a ** b with NumPy broadcasting.

Integer powers with a negative exponent truncate the fraction toward zero
(1 and -1 stay exact, anything else gives 0), like OpenVINO's reference.
"""

import numpy as np

from gpu_int8.ops.elementwise import _Binary


class Power(_Binary):
    @classmethod
    def fn(cls, node, a, b):
        if not np.issubdtype(a.dtype, np.integer):
            return np.power(a, b)
        a, b = np.broadcast_arrays(a, b)
        negative = b < 0
        result = np.power(a, np.where(negative, 0, b))
        # a ** -n for |a| == 1 is +-1; for other a its magnitude is below 1 and truncates to 0
        odd = (b % 2) != 0
        inverse = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0)) if np.any(negative) else 0
        return np.where(negative, inverse, result)
