#!/usr/bin/env bash
# Build, on this machine, the wheels a GPU machine without network needs to run lip-toolkit beside its own CUDA
# torch, split into parts that each fit one carry (docs/gpu.md).
#
# Target (the lent GPU machine): Python 3.12, torch 2.11.0+cu130 already installed, numpy 2.x, no network, at most
# 64 MiB carried per call (the repository's tracked files, about 2 MiB, travel too).
#
#   bash scripts/build_wheelhouse.sh                          # all parts into wheelhouse/ (gitignored)
#   bash scripts/build_wheelhouse.sh --device-freeze FILE     # leave out what `pip freeze` on the device lists
#   bash scripts/build_wheelhouse.sh --build-mmcv             # also compile mmcv's CPU ops here (see below)
#   bash scripts/build_wheelhouse.sh --dry-run                # print the plan, download and build nothing
#   bash scripts/build_wheelhouse.sh --pack DIR               # only pack DIR/all into DIR/part-N (the last step)
#
# What it does and why:
#   - Wheels for CPython 3.12 manylinux x86_64 only (pip download --only-binary with --python-version 3.12), at
#     the versions pinned below, --no-deps: the set is closed by hand, so nothing is resolved on the device.
#     mmpose is taken without its chumpy requirement (it does not build and is never imported).
#   - opencv-python-headless in place of opencv-python: the same cv2 without GUI libraries (the device has no
#     display; 50 MB either way).
#   - xtcocotools has no CPython 3.12 wheel on PyPI: it is built here with Python 3.12 against numpy 2 (a wheel
#     built against numpy 2 runs with any numpy 2.x).
#   - mmcv 2.1.0 ships as source only, and its compiled CPU ops (which mmseg / mmdet import) must be built against
#     the device's torch 2.11 and Python 3.12. Two ways:
#       * default: the source (half a MiB), patched for torch 2.11's headers (C++20) and carried; the device builds
#         it with its 16 cores (benchmarks/device_check.sh install): CPU ops only, no CUDA compiled.
#       * --build-mmcv: compile here in a Python 3.12 environment holding PyPI's torch 2.11.0 (the cu130 build, the
#         device's: its torchvision 0.26.0 links libcudart.so.13) with its CUDA runtime packages (several GB of
#         downloads: torch imports them) -- about 12 minutes of both cores, CPU ops only.
#   - torch, torchvision's and numpy are the device's own; torchvision 0.26.0 (PyPI's, for torch 2.11.0+cu130)
#     is added in case the device lacks it.
#   - Parts: the wheels packed largest first into folders of at most --part-mib MiB (default 56), each carried in
#     its own call and installed with benchmarks/device_check.sh install; MANIFEST.txt lists part, size, sha256.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$HERE/wheelhouse"
PART_MIB=56  # 64 MiB a carry, less the repository's files (about 2.5 MiB) and a margin
FREEZE=""
BUILD_MMCV=0
DRY_RUN=0
PACK_ONLY=""

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
fail() { printf '[wheelhouse] FAILED: %s\n' "$*" >&2; exit 1; }
step() { printf '[wheelhouse] %s\n' "$*"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --out) [ $# -ge 2 ] || fail "--out needs a folder"; OUT="$2"; shift 2 ;;
        --part-mib) [ $# -ge 2 ] || fail "--part-mib needs a number"; PART_MIB="$2"; shift 2 ;;
        --device-freeze) [ $# -ge 2 ] || fail "--device-freeze needs a file"; FREEZE="$2"; shift 2 ;;
        --build-mmcv) BUILD_MMCV=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        --pack) [ $# -ge 2 ] || fail "--pack needs a folder"; PACK_ONLY="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) fail "unknown argument '$1' (see --help)" ;;
    esac
done
case "$PART_MIB" in ''|*[!0-9]*) fail "--part-mib must be a whole number of MiB, got '$PART_MIB'" ;; esac
[ -z "$FREEZE" ] || [ -f "$FREEZE" ] || fail "--device-freeze: no such file: $FREEZE"

# Pack the files of DIR/all into DIR/part-N folders of at most PART_MIB MiB each, with DIR/MANIFEST.txt.
pack_parts() {
    "$1" - "$2" "$PART_MIB" <<'PY'
import hashlib, shutil, sys
from pathlib import Path
root, limit = Path(sys.argv[1]), int(sys.argv[2]) * 2 ** 20
# mmcv's source travels with what builds it (setuptools, wheel, ninja): one unit, so one part builds mmcv
BUILD_UNIT = ('mmcv-', 'setuptools-', 'wheel-', 'ninja-')
units = {}
for path in (root / 'all').iterdir():
    units.setdefault('build' if path.name.startswith(BUILD_UNIT) else path.name, []).append(path)
units = sorted(units.values(), key=lambda u: sum(p.stat().st_size for p in u), reverse=True)
parts = []  # first fit, largest first
for unit in units:
    size = sum(p.stat().st_size for p in unit)
    if size > limit:
        sys.exit(f'[wheelhouse] FAILED: {unit[0].name} ({size / 2**20:.1f} MiB) is larger than a part')
    for part in parts:
        if part['size'] + size <= limit:
            break
    else:
        part = dict(files=[], size=0)
        parts.append(part)
    part['files'].extend(unit)
    part['size'] += size
lines = ['# part  MiB  sha256  file']
for number, part in enumerate(parts, 1):
    folder = root / f'part-{number}'
    folder.mkdir()
    for path in part['files']:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f'part-{number}  {path.stat().st_size / 2**20:.2f}  {digest}  {path.name}')
        shutil.move(str(path), folder / path.name)
    print(f'[wheelhouse] part-{number}: {len(part["files"])} files, {part["size"] / 2**20:.1f} MiB')
(root / 'all').rmdir()
(root / 'MANIFEST.txt').write_text('\n'.join(lines) + '\n')
PY
}

# Binary wheels for the device, pinned: current PyPI releases for CPython 3.12 and numpy 2 when this was written.
WHEELS=(
    mmengine==0.10.7 mmdet==3.3.0 mmsegmentation==1.2.2 mmpose==1.3.2
    addict==2.4.0 yapf==0.43.0 termcolor==3.3.0 rich==15.0.0 pygments==2.21.0 markdown-it-py==4.3.0 mdurl==0.1.2
    opencv-python-headless==4.11.0.86 matplotlib==3.11.2 contourpy==1.4.0 cycler==0.12.1 fonttools==4.69.1
    kiwisolver==1.5.1 pyparsing==3.3.3 python-dateutil==4.0.0 six==1.17.0 pillow==13.0.0 scipy==1.18.1
    shapely==2.2.0 pycocotools==2.0.11 json_tricks==3.17.3 munkres==3.0.0 prettytable==3.19.0 wcwidth==0.9.5
    terminaltables==3.1.10 tqdm==4.70.1 click==8.5.1 pyyaml==6.0.4 packaging==26.4 platformdirs==4.14.9
    ftfy==6.3.1 regex==2026.12.2 torchvision==0.26.0
    ninja==1.13.2 "setuptools==80.10.2" wheel==0.48.0
)
SOURCE_BUILT=(xtcocotools==1.14.3)
MMCV=mmcv==2.1.0
PLATFORMS=(--platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_24_x86_64
           --platform manylinux_2_27_x86_64 --platform manylinux_2_28_x86_64)

# Package names (normalised) the device already has, from its `pip freeze`.
normalise() { tr 'A-Z_.' 'a-z--' ; }
declare -A ON_DEVICE=()
if [ -n "$FREEZE" ]; then
    while IFS= read -r line; do
        name="${line%%[=@ ]*}"; [ -n "$name" ] && ON_DEVICE["$(printf '%s' "$name" | normalise)"]=1
    done < "$FREEZE"
fi
wanted() {  # a pin is wanted unless the device has the package
    local name; name="$(printf '%s' "${1%%[=<>]*}" | normalise)"
    [ -z "${ON_DEVICE[$name]+x}" ]
}

if [ -n "$PACK_ONLY" ]; then
    [ -d "$PACK_ONLY/all" ] || fail "--pack: no folder $PACK_ONLY/all"
    pack_parts "${PYTHON:-python3}" "$PACK_ONLY" || fail "packing failed"
    exit 0
fi

PLAN=()
for pin in "${WHEELS[@]}" "${SOURCE_BUILT[@]}"; do wanted "$pin" && PLAN+=("$pin"); done
if [ "$DRY_RUN" = 1 ]; then
    step "would fetch or build for CPython 3.12: ${PLAN[*]} $MMCV ($([ $BUILD_MMCV = 1 ] && echo 'compiled here' || echo 'source, built on the device'))"
    step "into $OUT, parts of at most $PART_MIB MiB"
    exit 0
fi

# A Python 3.12 to build with: python3.12 on PATH (if it runs: a pyenv shim may not), else pyenv's newest 3.12.
is_312() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; }
PY312="$(command -v python3.12 || true)"
if ! is_312 "$PY312"; then
    PY312="$(ls -d "$HOME"/.pyenv/versions/3.12.*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)"
fi
is_312 "$PY312" || fail "no Python 3.12 found (python3.12 on PATH or pyenv's 3.12.x): the wheels must match the device's CPython 3.12"
step "building with $PY312 ($("$PY312" -c 'import sys; print(sys.version.split()[0])'))"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK" "$OUT.partial"' EXIT  # a failed build leaves no half-written wheelhouse
"$PY312" -m venv "$WORK/venv" || fail "could not create a Python 3.12 virtual environment"
PIP=("$WORK/venv/bin/python" -m pip --disable-pip-version-check -q)
# Not the repository's constraints (numpy < 2 there): the device runs numpy 2.
export PIP_CONSTRAINT=""
"${PIP[@]}" install "setuptools==80.10.2" wheel "numpy>=2,<3" "cython>=3" ninja || fail "could not set up the build environment"

rm -rf "$OUT.partial"
mkdir -p "$OUT.partial/all"
binary=()
for pin in "${PLAN[@]}"; do
    case " ${SOURCE_BUILT[*]} " in *" $pin "*) ;; *) binary+=("$pin") ;; esac
done
if [ ${#binary[@]} -gt 0 ]; then
    step "downloading ${#binary[@]} wheels for CPython 3.12"
    "${PIP[@]}" download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
        --abi abi3 --abi none "${PLATFORMS[@]}" -d "$OUT.partial/all" "${binary[@]}" \
        || fail "pip could not download the pinned wheels (see above)"
fi
for pin in "${SOURCE_BUILT[@]}"; do
    wanted "$pin" || continue
    step "building $pin for CPython 3.12 against numpy 2"
    "${PIP[@]}" wheel --no-deps --no-build-isolation -w "$OUT.partial/all" "$pin" || fail "could not build $pin"
done

step "mmcv 2.1.0 source, patched for torch 2.11"
"${PIP[@]}" download --no-deps --no-binary=:all: --no-build-isolation -d "$WORK/src" "$MMCV" \
    || fail "could not download the mmcv 2.1.0 source"
tar -xzf "$WORK"/src/mmcv-2.1.0.tar.gz -C "$WORK/src"
# torch's recent headers need C++20; mmcv 2.1.0 hard-codes C++17.
sed -i 's/-std=c++17/-std=c++20/g' "$WORK/src/mmcv-2.1.0/setup.py"
grep -q 'std=c++20' "$WORK/src/mmcv-2.1.0/setup.py" || fail "the mmcv setup.py patch did not apply"
if [ "$BUILD_MMCV" = 1 ]; then
    step "compiling mmcv 2.1.0 CPU ops against PyPI's torch 2.11.0 (large download, about 12 minutes on 2 cores)"
    "${PIP[@]}" install torch==2.11.0 || fail "could not install torch 2.11.0 to build against"
    (cd "$WORK/src/mmcv-2.1.0" && CUDA_VISIBLE_DEVICES="" MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        "${PIP[@]}" wheel --no-deps --no-build-isolation -w "$OUT.partial/all" .) || fail "building mmcv failed"
else
    tar -czf "$OUT.partial/all/mmcv-2.1.0-patched.tar.gz" -C "$WORK/src" mmcv-2.1.0
fi

step "packing parts of at most $PART_MIB MiB"
pack_parts "$WORK/venv/bin/python" "$OUT.partial" || fail "packing failed"
rm -rf "$OUT"
mv "$OUT.partial" "$OUT"
step "ready: $OUT (carry one part-N per call: benchmarks/device_check.sh install wheelhouse/part-N)"
