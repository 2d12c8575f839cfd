#!/usr/bin/env bash
# Creates .venv in the repo and installs gpu_int8 into it.
#   bash scripts/setup.sh          the package and the CPU OpenCL runtimes
#   bash scripts/setup.sh --test   also the test oracles (ONNX Runtime, OpenVINO, NNCF),
#                                  Debian's PoCL and Intel's offline GPU compiler (ocloc)
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_install() {
  command -v apt-get >/dev/null || return 1
  [ -n "${APT_UPDATED:-}" ] || { as_root apt-get update -qq && APT_UPDATED=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
  apt_install python3-venv || { echo "setup: Python's venv module is missing; install python3-venv" >&2; exit 1; }
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip

if [ "${1:-}" = "--test" ]; then
  .venv/bin/python -m pip install -q -e '.[opencl,test]'
  # Debian's PoCL 3.1 (better code generation than the pip build), ocloc for the GPU ISA checks
  # and objdump (binutils) for the CPU ones; the tests skip with a reason where these are missing
  if ! command -v ocloc >/dev/null || ! command -v objdump >/dev/null || [ ! -e /etc/OpenCL/vendors/pocl.icd ]; then
    apt_install pocl-opencl-icd intel-opencl-icd ocl-icd-libopencl1 binutils \
      || echo "setup: could not install Debian's pocl-opencl-icd / intel-opencl-icd (ocloc) / binutils" >&2
  fi
else
  .venv/bin/python -m pip install -q -e '.[opencl]'
fi
