"""NumPy reference executors: the float graph, and (lpt) the int8 schedule."""
