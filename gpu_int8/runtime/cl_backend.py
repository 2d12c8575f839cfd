"""A small OpenCL backend: device/context/queue, allocator, programs, launches with profiling events.

Modelled on tinygrad's ``ops_cl``: a few small classes over pyopencl, no policy.
Kernel selection and layouts live in ``gpu_int8.scheduler``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scheduler.devices import DeviceInfo
from ..scheduler.program_cache import ProgramCache, defines_to_options, kernel_source


class CLDevice:
    """One OpenCL device with its context, an in-order profiling queue (and one without profiling,
    :attr:`plain_queue`), an allocator and a program cache."""

    def __init__(self, info: DeviceInfo, cache: ProgramCache | None = None):
        import pyopencl as cl

        self.info = info
        self.context = cl.Context([info.cl_device])
        self.queue = cl.CommandQueue(self.context, info.cl_device,
                                     properties=cl.command_queue_properties.PROFILING_ENABLE)
        self.allocator = CLAllocator(self)
        self.cache = cache or ProgramCache()
        self._programs: dict[tuple[str, str], object] = {}
        self._plain_queue = None

    @property
    def plain_queue(self):
        """An in-order queue without profiling: its launches take the runtime no timestamps
        (a plan's requests 0.5-1.6% faster on Intel's CPU runtime)."""
        if self._plain_queue is None:
            import pyopencl as cl

            self._plain_queue = cl.CommandQueue(self.context, self.info.cl_device)
        return self._plain_queue

    def program(self, source_file: str, kernel_name: str, defines: dict | None = None,
                options: list[str] | None = None, prelude: str = "", group: str = "") -> CLProgram:
        """Kernel ``kernel_name`` from ``cl_kernels/<source_file>`` built with ``-D`` ``defines`` and ``options``,
        after ``prelude`` (generated source, e.g. an epilogue function); always a program of its own
        (``group`` matters to plans, see ``ProgramBuilder.program``)."""
        defines = dict(defines or {})
        # function-like or multi-token macros cannot go on a command line: they lead the source
        inline = {k: v for k, v in defines.items() if "(" in k or " " in str(v)}
        source = "".join(f"#define {k} {v}\n" for k, v in inline.items()) + prelude + kernel_source(source_file)
        opts = " ".join([*(options or []), *defines_to_options({k: v for k, v in defines.items() if k not in inline})])
        key = (source, opts)
        prg = self._programs.get(key)
        if prg is None:
            prg = self.cache.build(self.context, self.info.cl_device, source, opts)
            self._programs[key] = prg
        return CLProgram(self, prg, kernel_name)

    def synchronize(self) -> None:
        self.queue.finish()


class CLAllocator:
    """Device buffers and host<->device copies (blocking)."""

    def __init__(self, device: CLDevice):
        self.device = device

    def alloc(self, nbytes: int):
        import pyopencl as cl

        return cl.Buffer(self.device.context, cl.mem_flags.READ_WRITE, size=max(int(nbytes), 1))

    def from_numpy(self, array: np.ndarray):
        """A new buffer holding a copy of ``array``."""
        buf = self.alloc(array.nbytes)
        self.copyin(buf, array)
        return buf

    def copyin(self, buf, array: np.ndarray) -> None:
        import pyopencl as cl

        if array.nbytes:
            cl.enqueue_copy(self.device.queue, buf, np.ascontiguousarray(array), is_blocking=True)

    def copyout(self, array: np.ndarray, buf) -> np.ndarray:
        import pyopencl as cl

        if array.nbytes:
            cl.enqueue_copy(self.device.queue, array, buf, is_blocking=True)
        return array

    def to_numpy(self, buf, shape: tuple, dtype) -> np.ndarray:
        return self.copyout(np.empty(shape, dtype), buf)


@dataclass
class LaunchResult:
    """A kernel launch: its event, and its device time once waited for."""

    event: object
    name: str

    def seconds(self) -> float:
        """Device time between start and end (waits for the kernel)."""
        self.event.wait()
        return (self.event.profile.end - self.event.profile.start) * 1e-9


@dataclass
class PreparedLaunch:
    """A launch whose kernel object holds its arguments already: enqueueing it again costs one
    call (a plan enqueues dozens per request, and host time there takes a core from the kernels)."""

    queue: object
    kernel: object
    global_size: tuple[int, ...]
    local_size: tuple[int, ...] | None
    name: str

    def enqueue(self, wait: bool = False) -> LaunchResult:
        import pyopencl as cl

        event = cl.enqueue_nd_range_kernel(self.queue, self.kernel, self.global_size, self.local_size)
        if wait:
            event.wait()
        return LaunchResult(event, self.name)


class CLProgram:
    """One kernel of a built program; calling it enqueues a launch."""

    def __init__(self, device: CLDevice, program, name: str):
        import pyopencl as cl

        self.device, self.name, self.program = device, name, program
        self.kernel = cl.Kernel(program, name)  # its own kernel object: arguments are per instance

    def __call__(self, *args, global_size: tuple[int, ...], local_size: tuple[int, ...] | None = None,
                 wait: bool = False) -> LaunchResult:
        """Launch with buffers and numpy scalars (``np.int32(3)``) as arguments.

        ``global_size`` is rounded up to a multiple of ``local_size``; kernels guard their tails.
        """
        self.kernel.set_args(*args)
        return self._launch(self.kernel, global_size, local_size).enqueue(wait)

    def binary(self) -> bytes:
        """The device binary of the program this kernel belongs to."""
        import pyopencl as cl

        return self.program.get_info(cl.program_info.BINARIES)[0]

    def prepare(self, *args, global_size: tuple[int, ...], local_size: tuple[int, ...] | None = None
                ) -> PreparedLaunch:
        """The same launch with its arguments bound once, on a kernel object of its own."""
        import pyopencl as cl

        kernel = cl.Kernel(self.program, self.name)
        kernel.set_args(*args)
        return self._launch(kernel, global_size, local_size)

    def _launch(self, kernel, global_size, local_size) -> PreparedLaunch:
        gsize = tuple(int(g) for g in global_size)
        lsize = None
        if local_size is not None:
            lsize = tuple(int(x) for x in local_size)
            gsize = tuple(-(-g // ll) * ll for g, ll in zip(gsize, lsize, strict=True))
        return PreparedLaunch(self.device.queue, kernel, gsize, lsize, self.name)
