"""Batched program build: every kernel of a plan in as few OpenCL programs as possible.

Kernel sources are templates configured by macros (``-D`` style defines) and,
for generated parts, a prelude (e.g. an epilogue function).  To put many
configurations of the same template into one program, each is *instantiated*:
its defines become ``#define`` lines, every function the template defines is
renamed with a unique suffix (``#define conv conv__1a2b3c``), and everything is
``#undef``-ed after it.  Identical instantiations are shared, so repeated layer
shapes compile once.  All instances with the same build options form one
program, built through :class:`~gpu_int8.scheduler.program_cache.ProgramCache`
(so a second load of the same model compiles nothing).

A build failure raises :class:`PlanBuildError` naming the kernel instance whose
lines hold the first error of the build log.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from gpu_int8.runtime.cl_backend import CLProgram
from gpu_int8.scheduler.epilogue_codegen import PRAGMA
from gpu_int8.scheduler.program_cache import BuildError, kernel_source

_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)", re.M)
_FUNC = re.compile(r"\b([A-Za-z_]\w*)\s*\(([^{};]*)\)\s*\{")
_KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else"}
_ERROR_LINE = re.compile(r":(\d+):\d+:")


class PlanBuildError(RuntimeError):
    """A plan's program did not build; ``kernel`` names the instance holding the first error."""

    def __init__(self, kernel: str, step: str, first_error: str, log: str, options: str):
        self.kernel, self.step, self.first_error, self.log, self.options = kernel, step, first_error, log, options
        super().__init__(f"OpenCL build of kernel '{kernel}' (step '{step}') failed: {first_error}")


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _strip_attributes(text: str) -> str:
    out, i = [], 0
    while True:
        j = text.find("__attribute__", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        k = text.find("(", j)
        depth = 0
        while k < len(text):
            depth += {"(": 1, ")": -1}.get(text[k], 0)
            k += 1
            if depth == 0:
                break
        i = k


def defined_functions(source: str) -> list[str]:
    """Names of the functions (and kernels) a source defines at file scope."""
    text = _strip_attributes(_strip_comments(source)).replace("\\\n", " ")
    text = "\n".join("" if line.lstrip().startswith("#") else line for line in text.split("\n"))
    depth_at, depth = [], 0
    for ch in text:
        depth_at.append(depth)
        depth += {"{": 1, "}": -1}.get(ch, 0)
    names = []
    for m in _FUNC.finditer(text):
        if depth_at[m.start()] == 0 and m.group(1) not in _KEYWORDS and m.group(1) not in names:
            names.append(m.group(1))
    return names


@dataclass
class _Segment:
    text: str
    label: str  # kernel instance name
    step: str
    first_line: int = 0
    last_line: int = 0


class KernelRef:
    """A kernel of a program not built yet; after :meth:`ProgramBuilder.build` it prepares launches
    like :meth:`~gpu_int8.runtime.cl_backend.CLProgram.prepare`."""

    def __init__(self, device, name: str):
        self.device, self.name = device, name
        self._bound: CLProgram | None = None

    def bind(self, program) -> None:
        self._bound = CLProgram(self.device, program, self.name)

    def prepare(self, *args, global_size, local_size=None):
        """A launch with bound arguments (see ``CLProgram.prepare``)."""
        if self._bound is None:
            raise RuntimeError(f"kernel '{self.name}' launched before its program was built")
        return self._bound.prepare(*args, global_size=global_size, local_size=local_size)


@dataclass
class _Group:
    options: str
    segments: list[_Segment] = field(default_factory=list)
    refs: list[KernelRef] = field(default_factory=list)
    program: object = None


class ProgramBuilder:
    """Collects kernel instances of a plan and builds them, one program per build-option set."""

    def __init__(self, device, options: list[str], header: str = ""):
        self.device = device
        self.options = " ".join(options)
        self.header = header
        self.groups: dict[str, _Group] = {}
        self._instances: dict[str, dict[str, KernelRef]] = {}
        self.current_step = ""

    def instance(self, source: str, defines: dict | None = None, prelude: str = "",
                 options: str | None = None, group: str = "") -> dict[str, KernelRef]:
        """Instantiate ``source`` with ``defines`` after ``prelude``; its kernels by their template names.

        ``group``: instances naming the same group share a program apart from the others
        (see :meth:`program`)."""
        defines = dict(defines or {})
        opts = self.options if options is None else options
        define_lines = "".join(f"#define {k} {_macro_value(v)}\n" for k, v in sorted(defines.items()))
        key = hashlib.sha256("\0".join([opts, define_lines, prelude, source]).encode()).hexdigest()
        if key in self._instances:
            return self._instances[key]
        suffix = key[:10]
        functions = defined_functions(prelude + "\n" + source)
        macros = list(dict.fromkeys([d.split("(")[0] for d in defines] + _DEFINE.findall(source)
                                    + _DEFINE.findall(prelude)))
        renames = [f for f in functions if f not in macros]
        text = "".join([
            f"// ---- instance {suffix} (step {_comment_safe(self.current_step)}) ----\n",
            define_lines,
            "".join(f"#define {f} {f}__{suffix}\n" for f in renames),
            prelude, "\n", source, "\n",
            "".join(f"#undef {m}\n" for m in macros + renames),
        ])
        group_key = f"{opts}\0{group}" if group else opts
        group = self.groups.setdefault(group_key, _Group(opts))
        kernels = _kernel_names(source)
        refs = {}
        for name in kernels:
            ref = KernelRef(self.device, f"{name}__{suffix}")
            refs[name] = ref
            group.refs.append(ref)
        group.segments.append(_Segment(text, ",".join(f"{n}__{suffix}" for n in kernels) or suffix,
                                       self.current_step))
        self._instances[key] = refs
        return refs

    def program(self, source_file: str, kernel_name: str, defines: dict | None = None,
                options: list[str] | None = None, prelude: str = "", group: str = "") -> KernelRef:
        """:meth:`CLDevice.program`'s signature, so host-side kernel classes can record into this builder.

        ``options`` other than ``-cl-std`` are kept, and an instance asking for the
        builder's own ``-cl-std`` joins the shared program.  Instances naming a ``group`` share
        a program of their own: Intel's CPU compiler picks instructions for a whole program,
        and the depthwise kernels' 8-wide vectors in the program of the dot-product kernels
        turned their vpdpbusd loops into vpdpwssd ones (PP-OCRv4 det's 3x3 96->24
        convolution: 6.7 ms instead of 3.5).
        """
        opts = list(options or [])
        std = [o for o in opts if o.startswith("-cl-std=")]
        rest = [o for o in opts if not o.startswith("-cl-std=")]
        own_std = [o for o in self.options.split() if o.startswith("-cl-std=")]
        if rest or (std and _std_version(std[-1]) > _std_version(own_std[-1] if own_std else "")):
            merged = " ".join(std or own_std) + " " + " ".join(o for o in self.options.split()
                                                              if not o.startswith("-cl-std="))
            opt_text = (merged + " " + " ".join(rest)).strip()
        else:
            opt_text = None  # the shared program's newer -cl-std compiles OpenCL C 1.2 sources too
        return self.instance(kernel_source(source_file), defines, prelude, options=opt_text,
                             group=group)[kernel_name]

    @property
    def kernel_count(self) -> int:
        return sum(len(g.refs) for g in self.groups.values())

    def sources(self) -> dict[str, str]:
        """Full program source per option set and named group (what :meth:`build` compiles)."""
        out = {}
        for opts, group in self.groups.items():
            lines = 1 + (self.header + PRAGMA).count("\n")
            parts = [self.header, PRAGMA]
            for seg in group.segments:
                seg.first_line = lines
                lines += seg.text.count("\n")
                seg.last_line = lines - 1
                parts.append(seg.text)
            out[opts] = "".join(parts)
        return out

    def build(self, cache) -> None:
        """Build every program (disk-cached through ``cache``) and bind all kernel references."""
        import pyopencl as cl

        for opts, text in self.sources().items():
            group = self.groups[opts]
            try:
                with warnings.catch_warnings():  # compiler remarks are not the user's business; errors are
                    warnings.simplefilter("ignore", cl.CompilerWarning)
                    group.program = cache.build(self.device.context, self.device.info.cl_device, text,
                                                group.options)
            except BuildError as exc:
                raise self._explain(group, exc) from None
            for ref in group.refs:
                ref.bind(group.program)

    def _explain(self, group: _Group, exc: BuildError) -> PlanBuildError:
        first, line = "", None
        for raw in exc.log.splitlines():
            m = _ERROR_LINE.search(raw)
            if m and "error" in raw:
                line, first = int(m.group(1)), raw.strip()
                break
        if not first:
            first = next((ln.strip() for ln in exc.log.splitlines() if "error" in ln.lower()),
                         exc.log.strip().splitlines()[0] if exc.log.strip() else "unknown error")
        seg = None
        if line is not None:
            seg = next((s for s in group.segments if s.first_line <= line <= s.last_line), None)
        kernel = seg.label if seg else "(program)"
        step = seg.step if seg else ""
        return PlanBuildError(kernel, step, first, exc.log, group.options)


def _kernel_names(source: str) -> list[str]:
    text = _strip_attributes(_strip_comments(source))
    return re.findall(r"\b(?:__kernel|kernel)\s+void\s+([A-Za-z_]\w*)\s*\(", text)


def _comment_safe(text: str) -> str:
    """A model-given name reduced to characters that cannot leave a ``//`` comment."""
    return re.sub(r"[^A-Za-z0-9_.:@#/+-]", "_", text)[:120]


def _std_version(option: str) -> float:
    """1.2 for ``-cl-std=CL1.2``; 0 when absent."""
    m = re.search(r"CL(\d+)\.(\d+)", option)
    return float(f"{m.group(1)}.{m.group(2)}") if m else 0.0


def _macro_value(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if "\n" in str(v):
        raise ValueError("a macro value spans lines")
    return str(v)
