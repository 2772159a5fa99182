#!/usr/bin/env bash
# Driver of the device check on a lent GPU machine without network (docs/gpu.md).
#
#   bash benchmarks/device_check.sh install wheelhouse/part-1 [wheelhouse/part-2 ...]
#   bash benchmarks/device_check.sh run [device_check.py arguments]
#   bash benchmarks/device_check.sh all wheelhouse/part-N -- [device_check.py arguments]   # install, then run
#
# install: a virtual environment (.device-env, or LIP_DEVICE_ENV) that sees the machine's own torch and numpy
#   (--system-site-packages), the carried wheels installed offline without dependency resolution (the wheelhouse
#   is a closed set, scripts/build_wheelhouse.sh), and mmcv 2.1.0 built from the carried source with CPU ops only
#   (no CUDA compiled) against the machine's torch when the source is in the part. The environment is an ignored
#   path, so it stays on a warm machine between calls: parts carried in separate calls add up.
# run: benchmarks/device_check.py with the repository on PYTHONPATH (lip-toolkit's own numpy<2 pin is for the
#   development machine; the device runs numpy 2), results to $OUT (the device tool's output folder) or
#   work_dirs/device_check.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_DIR="${LIP_DEVICE_ENV:-$HERE/.device-env}"
PYTHON="${PYTHON:-python3}"
RESULTS="${OUT:-$HERE/work_dirs/device_check}"

fail() { printf '[device-check.sh] FAILED: %s\n' "$*" >&2; exit 1; }
step() { printf '[device-check.sh] %s\n' "$*"; }

install_parts() {
    [ $# -gt 0 ] || fail "install needs at least one wheelhouse part folder"
    for dir in "$@"; do [ -d "$dir" ] || fail "no such wheelhouse part: $dir"; done
    if [ ! -x "$ENV_DIR/bin/python" ]; then
        step "environment $ENV_DIR on $("$PYTHON" --version 2>&1), seeing the machine's torch and numpy"
        "$PYTHON" -m venv --system-site-packages "$ENV_DIR" || fail "could not create $ENV_DIR"
    fi
    local py="$ENV_DIR/bin/python"
    local pip=("$py" -m pip --disable-pip-version-check -q)
    local wheels=() sources=()
    for dir in "$@"; do
        for file in "$dir"/*.whl; do [ -e "$file" ] && wheels+=("$file"); done
        for file in "$dir"/mmcv-*.tar.gz; do [ -e "$file" ] && sources+=("$file"); done
    done
    if [ ${#wheels[@]} -gt 0 ]; then
        step "installing ${#wheels[@]} wheels offline"
        "${pip[@]}" install --no-index --no-deps "${wheels[@]}" || fail "pip could not install the carried wheels"
    fi
    for source in "${sources[@]}"; do
        "$py" -c 'import setuptools, pkg_resources, ninja, torch' 2>/dev/null \
            || fail "building mmcv needs setuptools (<81), ninja and torch in $ENV_DIR: install the part with their wheels"
        local build; build="$(mktemp -d)"
        tar -xzf "$source" -C "$build"
        step "building mmcv 2.1.0 CPU ops against torch $("$py" -c 'import torch; print(torch.__version__)') with $(nproc) jobs"
        local began=$SECONDS
        # mmcv's setup.py compiles CUDA ops whenever torch sees a GPU: hide it for the build (CPU ops only)
        (cd "$build"/mmcv-* && CUDA_VISIBLE_DEVICES="" MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="$(nproc)" \
            "${pip[@]}" install --no-index --no-deps --no-build-isolation .) || fail "building mmcv failed"
        rm -rf "$build"
        step "mmcv built in $((SECONDS - began)) s"
    done
    "$py" -c 'import mmcv, mmcv.ops, mmengine, mmdet, mmpose, mmseg, torchvision; print("[device-check.sh] stack imports: mmcv", mmcv.__version__)' \
        || step "the stack does not import yet (see above): install the remaining parts"
}

run_check() {
    [ -x "$ENV_DIR/bin/python" ] || fail "no environment at $ENV_DIR: run '$0 install <part>' first"
    mkdir -p "$RESULTS"
    cd "$HERE"
    PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" "$ENV_DIR/bin/python" benchmarks/device_check.py \
        --out "$RESULTS/device_check.json" --markdown "$RESULTS/device_check.md" "$@"
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    install) install_parts "$@" ;;
    run) run_check "$@" ;;
    all)
        parts=()
        while [ $# -gt 0 ] && [ "$1" != "--" ]; do parts+=("$1"); shift; done
        [ $# -gt 0 ] && shift
        install_parts "${parts[@]}"
        run_check "$@" ;;
    *) fail "usage: $0 install PART... | run [ARGS] | all PART... -- [ARGS]" ;;
esac
