#!/usr/bin/env bash
# One prepared check of stylize on a CUDA machine, each check's figures on one line:
#
#   benchmarks/gpu_check.sh            # from the repository root, with stylize installed (.[dev])
#
#   cuda-tests   the CUDA tests (tests/test_cuda.py)
#   speed-512    benchmarks/speed.py --size 512 --device cuda --repeat 3 (plain arms vs stylize)
#   speed-1024   benchmarks/speed.py --size 1024 --device cuda
#   batch-16     benchmarks/batch.py --images 16 --size 512 --device cuda --no-judge (a loop vs one folder call)
#   folder-100   one `stylize photos/ style -o out/` over 100 photos at 512 px (target on an H100/H200: < 120 s)
#   run-2048     one `stylize tubingen starry_night --size 2048` (coarse to fine: 512, 1024, 2048)
#
# Each check has its own time limit (together 8 minutes). Without a CUDA GPU every check says
# "skipped" and the script exits 0; otherwise it exits 1 if any check failed or ran out of time.
# Images come from ../shared/images (STYLIZE_SHARED overrides), or samples/ where that is absent.
# PYTHON picks the interpreter (default: python); OUT keeps the outputs (default: a temp folder).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
SHARED=${STYLIZE_SHARED:-../shared}
OUT=${OUT:-$(mktemp -d -t stylize-gpu-check-XXXXXX)}
mkdir -p "$OUT"
CHECKS=(cuda-tests speed-512 speed-1024 batch-16 folder-100 run-2048)

if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    for name in "${CHECKS[@]}"; do
        echo "gpu_check $name: skipped (no CUDA GPU here)"
    done
    exit 0
fi

if [[ -f "$SHARED/images/tubingen.jpg" && -f "$SHARED/images/starry_night.jpg" ]]; then
    CONTENT=$SHARED/images/tubingen.jpg STYLE=$SHARED/images/starry_night.jpg
else
    CONTENT=samples/chelsea.jpg STYLE=samples/swirls.jpg
fi
failed=0

# check NAME SECONDS SUMMARY COMMAND...: run COMMAND under a time limit, its output in $OUT/NAME.log;
# print one line: ok or FAILED, the seconds, and what SUMMARY (a shell snippet reading the log) says.
check() {
    local name=$1 limit=$2 summary=$3
    shift 3
    local log=$OUT/$name.log start=$SECONDS rc
    timeout "$limit" "$@" >"$log" 2>&1
    rc=$?
    local figures
    figures=$(LOG=$log bash -c "$summary" 2>/dev/null | tr '\n' ' ')
    if [[ $rc -eq 0 ]]; then
        echo "gpu_check $name: ok in $((SECONDS - start)) s | $figures"
    else
        [[ $rc -eq 124 ]] && figures="ran out of its $limit s; $figures"
        echo "gpu_check $name: FAILED (exit $rc) in $((SECONDS - start)) s | $figures (log: $log)"
        failed=1
    fi
}

make_photos() {  # 100 distinct 512 px photos for folder-100
    "$PY" - "$OUT/photos" <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, "benchmarks")
from batch import make_photos
make_photos(Path(sys.argv[1]), 100, 512)
EOF
}

check cuda-tests 45 'tail -1 "$LOG"' "$PY" -m pytest -q -m cuda tests/test_cuda.py
check speed-512 60 'tail -1 "$LOG"' "$PY" benchmarks/speed.py --size 512 --device cuda --repeat 3 "$CONTENT" "$STYLE"
check speed-1024 90 'tail -1 "$LOG"' "$PY" benchmarks/speed.py --size 1024 --device cuda "$CONTENT" "$STYLE"
check batch-16 120 'tail -1 "$LOG"' "$PY" benchmarks/batch.py --images 16 --size 512 --device cuda --no-judge
make_photos >"$OUT/photos.log" 2>&1 || { echo "gpu_check folder-100: FAILED (could not make the photos)"; failed=1; }
check folder-100 120 'tail -1 "$LOG"' stylize "$OUT/photos" "$STYLE" -o "$OUT/folder/" --size 512 --device cuda \
    --progress lines --log "$OUT/folder.jsonl"
check run-2048 45 'tail -1 "$LOG"' stylize "$CONTENT" "$STYLE" -o "$OUT/big.png" --size 2048 --device cuda \
    --progress lines
echo "gpu_check total: $SECONDS s; outputs in $OUT"
exit $failed
