#!/usr/bin/env bash
# The one install step behind `make demo` and `make test`: builds (or reuses) a virtual environment with
# torch, mmcv 2.1.0 *with compiled ops*, mmengine, mmdet, mmpose, mmsegmentation and this package.
#
# Idempotent: a stamp in the environment records what was installed; a second run only re-links the
# package (seconds). Override the location with LIP_TOOLKIT_VENV.
#
# Why each step is the way it is:
#   - torch 2.14.1 / torchvision 0.29.1: mmpose imports torchvision, and PyPI's torchvision ops do not load
#     beside the 2.13 CPU build of torch that some machines carry.
#   - mmcv 2.1.0 ships on PyPI as source only; mmseg/mmdet import its compiled ops (mmcv-lite is not
#     enough). Its setup.py imports pkg_resources (setuptools < 81), hard-codes -std=c++17 while torch
#     2.14's headers need C++20, and must see the installed torch (--no-build-isolation). A prebuilt wheel
#     found through PIP_FIND_LINKS is used instead of building.
#   - mmpose 1.3.2 requires chumpy, which does not build and which we never import: mmpose is installed
#     with --no-deps and its real imports are listed below.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LIP_TOOLKIT_VENV:-$HOME/.cache/lip-toolkit/venv}"
PYTHON="${PYTHON:-python3}"
STAMP_VERSION="4"  # bump when the pins below change

TORCH_PINS=(torch==2.14.1 torchvision==0.29.1)
BASE_PINS=("setuptools>=61,<81" wheel "numpy>=1.23,<2" "opencv-python==4.11.0.86" "click>=8.1,<9")
MM_PINS=(mmengine==0.10.7 "mmdet>=3.3.0,<3.4" mmsegmentation==1.2.2)
MMPOSE_REAL_DEPS=(json_tricks munkres scipy "xtcocotools>=1.12" matplotlib pillow tqdm ftfy regex
                  prettytable shapely terminaltables pycocotools)
TEST_DEPS=("pytest>=7" pytest-timeout)

step() { printf '\n[install] %s\n' "$*"; }
fail() { printf '\n[install] FAILED: %s\n' "$*" >&2; exit 1; }

if [ -n "${PIP_FIND_LINKS:-}" ]; then step "using prebuilt wheels from PIP_FIND_LINKS=$PIP_FIND_LINKS"; fi

if [ ! -x "$VENV/bin/python" ]; then
    step "creating virtual environment $VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV" || fail "could not create $VENV with $PYTHON (need Python 3.9-3.12 with venv)"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
# Every pip call below honours the same constraints, including the ones pip makes on a package's behalf
# (torch asks for setuptools>=77.0.3: unconstrained, that pulls a setuptools without pkg_resources).
export PIP_CONSTRAINT="$HERE/constraints.txt"

STAMP="$VENV/.lip-toolkit-stamp"
WANT="$STAMP_VERSION $("$PY" -c 'import sys; print(sys.version.split()[0])')"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && \
   "$PY" -c 'import mmcv.ops, mmpose, mmseg, mmdet' >/dev/null 2>&1; then
    step "environment already complete ($VENV); re-linking the package only"
else
    rm -f "$STAMP"
    step "base tools and numpy/opencv"
    "${PIP[@]}" install -q --upgrade pip >/dev/null || true
    "${PIP[@]}" install -q "${BASE_PINS[@]}" || fail "pip could not install ${BASE_PINS[*]}"

    step "torch and torchvision (${TORCH_PINS[*]})"
    "${PIP[@]}" install -q "${TORCH_PINS[@]}" || fail "pip could not install ${TORCH_PINS[*]}"

    step "mmcv 2.1.0 with compiled ops"
    # mmcv's own runtime requirements first, so that it can be imported (and checked) right after.
    "${PIP[@]}" install -q mmengine==0.10.7 addict yapf packaging pyyaml \
        || fail "pip could not install mmengine 0.10.7 and mmcv's requirements"
    if ! "$PY" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' >/dev/null 2>&1; then
        # A prebuilt wheel (PIP_FIND_LINKS) first; pip's wheel cache is not keyed on the torch version,
        # so it is bypassed.
        if ! "${PIP[@]}" install -q --no-cache-dir --no-deps --only-binary=mmcv mmcv==2.1.0 2>/dev/null; then
            step "no prebuilt mmcv wheel found: building mmcv 2.1.0 from source (about 12 minutes on 2 cores)"
            BUILD="$(mktemp -d)"
            trap 'rm -rf "$BUILD"' EXIT
            # --no-build-isolation here too: pip reads the sdist's metadata by running its setup.py, which
            # imports pkg_resources (gone from the setuptools an isolated build would pick) and torch.
            "${PIP[@]}" download -q --no-deps --no-binary=:all: --no-build-isolation mmcv==2.1.0 -d "$BUILD" \
                || fail "could not download the mmcv 2.1.0 source from PyPI"
            tar -xzf "$BUILD"/mmcv-2.1.0.tar.gz -C "$BUILD" || fail "could not unpack the mmcv source"
            sed -i 's/-std=c++17/-std=c++20/g' "$BUILD/mmcv-2.1.0/setup.py"
            "${PIP[@]}" install -q ninja || fail "could not install mmcv's build requirements (ninja)"
            if command -v nvcc >/dev/null 2>&1 && "$PY" -c 'import torch,sys; sys.exit(not torch.cuda.is_available())'; then
                export FORCE_CUDA=1   # CUDA ops where a GPU toolchain is present
            fi
            (cd "$BUILD/mmcv-2.1.0" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
                "${PIP[@]}" install --no-cache-dir --no-build-isolation --no-deps .) \
                || fail "building mmcv 2.1.0 failed (see the compiler output above); a C++20 compiler (gcc >= 10) is needed"
        fi
    fi
    if ! OPS_ERROR="$("$PY" -c 'import mmcv.ops' 2>&1)"; then
        fail "mmcv is installed but 'import mmcv.ops' fails ($(echo "$OPS_ERROR" | tail -n 1)). A wheel built \
against another torch does this (pip's cache does not key on torch). Fix: $PY -m pip uninstall -y mmcv && $0"
    fi

    step "mmengine, mmdet, mmsegmentation and mmpose's real dependencies"
    "${PIP[@]}" install -q "${MM_PINS[@]}" "${MMPOSE_REAL_DEPS[@]}" "${TEST_DEPS[@]}" "mmcv==2.1.0" \
        || fail "pip could not install ${MM_PINS[*]}"
    step "mmpose 1.3.2 (without its unbuildable chumpy requirement)"
    "${PIP[@]}" install -q --no-deps mmpose==1.3.2 || fail "pip could not install mmpose 1.3.2"

    "$PY" -c 'import torch, torchvision, mmcv.ops, mmengine, mmdet, mmpose, mmseg' \
        || fail "the installed stack does not import (see the error above)"
    echo "$WANT" > "$STAMP"
fi

step "lip-toolkit (editable) from $HERE"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$HERE" || fail "pip could not install lip-toolkit from $HERE"
"$PY" -c 'import lip_toolkit' || fail "lip_toolkit does not import"
step "ready: $VENV (activate with: source $VENV/bin/activate)"
