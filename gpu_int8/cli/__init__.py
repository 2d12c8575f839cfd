"""Command line: ``python -m gpu_int8 <command>``; one module per command."""
