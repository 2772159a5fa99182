#!/usr/bin/env bash
# The one install step behind `make demo` and `make test`: builds (or reuses) a virtual environment with
# torch, mmcv 2.1.0 *with compiled ops*, mmengine, mmdet, mmpose, mmsegmentation and this package, then runs
# `lip-toolkit doctor` on it.
#
#   scripts/install.sh                 a virtual environment of its own (LIP_TOOLKIT_VENV, default
#                                      ~/.cache/lip-toolkit/venv); idempotent: a stamp records what was installed
#   scripts/install.sh --current-env   into the Python environment you already have (PYTHON, default python3):
#                                      your torch, torchvision, mmcv, numpy and opencv are never installed,
#                                      upgraded or downgraded (see docs/install.md)
#
# Versions live in one place, constraints.txt, which every pip call honours through PIP_CONSTRAINT: no step
# can move what another step pinned (torch's own requirement setuptools>=77.0.3 would otherwise pull a
# setuptools without pkg_resources, which mmcv's setup.py and mmengine's config resolution import).
#
# Why each step is the way it is:
#   - mmcv 2.1.0 ships on PyPI as source only; mmseg/mmdet import its compiled ops (mmcv-lite is not enough).
#     Its setup.py imports pkg_resources, hard-codes -std=c++17 while torch 2.14's headers need C++20, and must
#     see the installed torch (--no-build-isolation). A prebuilt wheel found through PIP_FIND_LINKS is used
#     instead of building. Only CPU ops are built, also on GPU machines: the models need no mmcv CUDA op.
#   - mmpose 1.3.2 requires chumpy, which does not build and which we never import: mmpose is installed
#     with --no-deps and its real imports are listed below.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONSTRAINTS="$HERE/constraints.txt"
PYTHON="${PYTHON:-python3}"
CURRENT_ENV=0
case "${1:-}" in
    --current-env) CURRENT_ENV=1 ;;
    "") ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) printf '[install] FAILED: unknown option %s (use --current-env or nothing)\n' "$1" >&2; exit 2 ;;
esac

# Names only: the versions come from constraints.txt.
BASE_PACKAGES=(setuptools wheel numpy opencv-python click)
TORCH_PACKAGES=(torch torchvision)
MMCV_RUNTIME_PACKAGES=(mmengine addict yapf packaging pyyaml)
MM_PACKAGES=(mmengine mmdet mmsegmentation)
MMPOSE_REAL_DEPS=(json_tricks munkres scipy xtcocotools matplotlib pillow tqdm ftfy regex
                  prettytable shapely terminaltables pycocotools)
TEST_DEPS=(pytest pytest-timeout onnx onnxruntime)
# What --current-env must leave exactly as the user has it (their builds, often for their CUDA).
USER_OWNED=(torch torchvision mmcv numpy opencv-python opencv-python-headless)

step() { printf '\n[install] %s\n' "$*"; }
fail() { printf '\n[install] FAILED: %s\n' "$*" >&2; exit 1; }

[ -f "$CONSTRAINTS" ] || fail "missing $CONSTRAINTS"
export PIP_CONSTRAINT="$CONSTRAINTS"
if [ -n "${PIP_FIND_LINKS:-}" ]; then step "using prebuilt wheels from PIP_FIND_LINKS=$PIP_FIND_LINKS"; fi

if [ "$CURRENT_ENV" = 1 ]; then
    PY="$(command -v "$PYTHON" || true)"
    [ -n "$PY" ] || fail "no $PYTHON on PATH (activate your environment or set PYTHON=/path/to/python)"
    PIP=("$PY" -m pip --disable-pip-version-check)
    step "installing into the current environment ($PY); torch, torchvision, mmcv, numpy and opencv stay as they are"
    "$PY" -c 'import torch' >/dev/null 2>&1 || fail "torch does not import in $PY: install your torch first"
    "$PY" -c 'import mmcv.ops' >/dev/null 2>&1 || fail "mmcv 2.1.0 with compiled ops does not import in $PY: \
install or build it first (docs/install.md, 'mmcv from source')"
    # The pins of constraints.txt, except that what the user owns is pinned to what is installed: pip then
    # refuses (and says why) rather than replace any of it.
    USER_CONSTRAINTS="$(mktemp)"
    trap 'rm -f "$USER_CONSTRAINTS"' EXIT
    owned="$(IFS='|'; echo "${USER_OWNED[*]}")"
    grep -Ev "^($owned)[<>=!~ ]" "$CONSTRAINTS" > "$USER_CONSTRAINTS"
    "${PIP[@]}" list --format=freeze 2>/dev/null | grep -Ei "^($owned)==" >> "$USER_CONSTRAINTS" || true
    export PIP_CONSTRAINT="$USER_CONSTRAINTS"
    if ! "$PY" -c 'import pkg_resources' >/dev/null 2>&1; then
        step "setuptools without pkg_resources found: installing a setuptools that has it (mmengine needs it)"
        "${PIP[@]}" install -q setuptools || fail "pip could not install setuptools<81"
    fi
    step "mmengine, mmdet, mmsegmentation, mmpose and their pure-Python dependencies"
    "${PIP[@]}" install -q "${MM_PACKAGES[@]}" "${MMPOSE_REAL_DEPS[@]}" click \
        || fail "pip could not install the OpenMMLab packages beside your torch/mmcv (pip's reason is above)"
    "${PIP[@]}" install -q --no-deps mmpose || fail "pip could not install mmpose"
else
    VENV="${LIP_TOOLKIT_VENV:-$HOME/.cache/lip-toolkit/venv}"
    if [ ! -x "$VENV/bin/python" ]; then
        step "creating virtual environment $VENV"
        mkdir -p "$(dirname "$VENV")"
        "$PYTHON" -m venv "$VENV" || fail "could not create $VENV with $PYTHON (need Python 3.9-3.12 with venv)"
    fi
    PY="$VENV/bin/python"
    PIP=("$PY" -m pip --disable-pip-version-check)

    # The stamp names the Python and the exact constraints and steps: changing either reruns every step
    # (each is a no-op where what is installed already satisfies it).
    STAMP="$VENV/.lip-toolkit-stamp"
    WANT="$("$PY" -c 'import sys; print(sys.version.split()[0])') $(cat "$CONSTRAINTS" "$0" | cksum | cut -d' ' -f1)"
    if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && \
       "$PY" -c 'import mmcv.ops, mmpose, mmseg, mmdet' >/dev/null 2>&1; then
        step "environment already complete ($VENV); re-linking the package only"
    else
        rm -f "$STAMP"
        step "base tools and numpy/opencv"
        "${PIP[@]}" install -q --upgrade pip >/dev/null || true
        "${PIP[@]}" install -q "${BASE_PACKAGES[@]}" || fail "pip could not install ${BASE_PACKAGES[*]}"

        step "torch and torchvision"
        "${PIP[@]}" install -q "${TORCH_PACKAGES[@]}" || fail "pip could not install ${TORCH_PACKAGES[*]}"

        step "mmcv 2.1.0 with compiled ops"
        # mmcv's own runtime requirements first, so that it can be imported (and checked) right after.
        "${PIP[@]}" install -q "${MMCV_RUNTIME_PACKAGES[@]}" \
            || fail "pip could not install mmengine and mmcv's requirements"
        if ! "$PY" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' >/dev/null 2>&1; then
            # A prebuilt wheel (PIP_FIND_LINKS) first; pip's wheel cache is not keyed on the torch version,
            # so it is bypassed.
            if ! "${PIP[@]}" install -q --no-cache-dir --no-deps --only-binary=mmcv mmcv 2>/dev/null; then
                step "no prebuilt mmcv wheel found: building mmcv 2.1.0 from source (about 12 minutes on 2 cores)"
                BUILD="$(mktemp -d)"
                trap 'rm -rf "$BUILD"' EXIT
                # --no-build-isolation here too: pip reads the sdist's metadata by running its setup.py, which
                # imports pkg_resources and torch.
                "${PIP[@]}" download -q --no-deps --no-binary=:all: --no-build-isolation mmcv -d "$BUILD" \
                    || fail "could not download the mmcv 2.1.0 source from PyPI or read its metadata (pip's reason is above)"
                tar -xzf "$BUILD"/mmcv-2.1.0.tar.gz -C "$BUILD" || fail "could not unpack the mmcv source"
                sed -i 's/-std=c++17/-std=c++20/g' "$BUILD/mmcv-2.1.0/setup.py"
                "${PIP[@]}" install -q ninja || fail "could not install mmcv's build requirements (ninja)"
                # CPU ops only, on every machine: mmcv's setup.py compiles CUDA ops whenever torch sees a GPU,
                # which takes 30+ minutes and nvcc; no toolkit model needs them (DCN runs on torchvision's op).
                (cd "$BUILD/mmcv-2.1.0" && CUDA_VISIBLE_DEVICES="" FORCE_CUDA=0 MMCV_WITH_OPS=1 \
                    MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
                    "${PIP[@]}" install --no-cache-dir --no-build-isolation --no-deps .) \
                    || fail "building mmcv 2.1.0 failed (see the compiler output above); a C++20 compiler (gcc >= 10) is needed"
            fi
        fi
        if ! OPS_ERROR="$("$PY" -c 'import mmcv.ops' 2>&1)"; then
            fail "mmcv is installed but 'import mmcv.ops' fails ($(echo "$OPS_ERROR" | tail -n 1)). A wheel built \
against another torch does this (pip's cache does not key on torch). Fix: $PY -m pip uninstall -y mmcv && $0"
        fi

        step "mmengine, mmdet, mmsegmentation and mmpose's real dependencies"
        "${PIP[@]}" install -q "${MM_PACKAGES[@]}" "${MMPOSE_REAL_DEPS[@]}" "${TEST_DEPS[@]}" mmcv \
            || fail "pip could not install ${MM_PACKAGES[*]}"
        step "mmpose 1.3.2 (without its unbuildable chumpy requirement)"
        "${PIP[@]}" install -q --no-deps mmpose || fail "pip could not install mmpose 1.3.2"

        "$PY" -c 'import torch, torchvision, mmcv.ops, mmengine, mmdet, mmpose, mmseg' \
            || fail "the installed stack does not import (see the error above)"
        echo "$WANT" > "$STAMP"
    fi
fi

step "lip-toolkit (editable) from $HERE"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$HERE" || fail "pip could not install lip-toolkit from $HERE"
step "checking the environment (lip-toolkit doctor)"
"$PY" -m lip_toolkit doctor || fail "the environment has the problems listed above (each with its fix)"
step "ready: $PY"
