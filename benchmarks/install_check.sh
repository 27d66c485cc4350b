#!/usr/bin/env bash
# Installs stylize's wheel into an environment that already has its own PyTorch, the way a user
# with a working CUDA (or CPU) torch would, and checks what a user would: that torch stayed the
# same, what `stylize --version` says about the device, that the fast tests pass against the
# installed package (run from outside the clone), and how long the samples take to paint.
#
#   benchmarks/install_check.sh WHEELS    # WHEELS: a folder holding the wheel (python -m build)
#                                         # and any dependency the environment lacks
#
# PYTHON picks the environment's interpreter (default: python3). PIP_OPTIONS are pip's options for
# the install (default --no-index: nothing but WHEELS); EXTRAS the extras to install with it (e.g.
# "[dev]"); SIZES the sizes to paint (default "256 512"). Run from the repository root. The GPU
# machine runs it with its own torch; .ci/oldest with the oldest supported torch and every other
# dependency at its lowest (PIP_OPTIONS="-c FILE").
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
wheels=$(cd "${1:?usage: benchmarks/install_check.sh WHEELS}" && pwd)
PY=${PYTHON:-python3}
failed=0

versions() { "$PY" -c 'import torch, torchvision; print(f"torch {torch.__version__}, torchvision {torchvision.__version__}")'; }
before=$(versions)
echo "install_check: before: $before"
# shellcheck disable=SC2086  # PIP_OPTIONS is a list of options
if ! "$PY" -m pip install -q ${PIP_OPTIONS---no-index} --find-links "$wheels" "neural-stylize${EXTRAS:-}"; then
    echo "install_check: FAILED: pip could not install the wheel beside this torch"
    exit 1
fi
after=$(versions)
if [[ "$after" == "$before" ]]; then
    echo "install_check: ok: $after stayed in place"
else
    echo "install_check: FAILED: installing replaced $before with $after"
    failed=1
fi
"$PY" -c 'import importlib.metadata as m; print("install_check: beside " + ", ".join(
    f"{n} {m.version(n)}" for n in ("numpy", "pillow", "scipy", "click", "tqdm")))'
bin=$("$PY" -c 'import sys, os; print(os.path.dirname(sys.executable))')
"$bin/stylize" --version | sed 's/^/install_check: /'

run=$(mktemp -d -t stylize-install-check-XXXXXX)
cd "$run" || exit 1
if ! "$PY" -c 'import stylize, sys; sys.exit("site-packages" not in stylize.__file__)'; then
    echo "install_check: FAILED: stylize is not imported from the installed package"
    failed=1
fi
"$PY" -m pytest -m "not slow" -q -p no:cacheprovider -c "$root/pyproject.toml" --rootdir "$root" "$root/tests" \
    >"$run/tests.log" 2>&1
rc=$?
echo "install_check: fast tests (exit $rc): $(tail -n 1 "$run/tests.log")"
[[ $rc -eq 0 ]] || { tail -n 60 "$run/tests.log"; failed=1; }
for size in ${SIZES:-256 512}; do
    start=$EPOCHREALTIME
    if "$bin/stylize" "$root/samples/chelsea.jpg" "$root/samples/swirls.jpg" -o "cat-$size.png" --size "$size" --quiet \
        && "$bin/stylize" --inspect "cat-$size.png" | grep -q "\"size\": $size"; then
        echo "install_check: painted the samples at $size px in $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }") s (whole process)"
    else
        echo "install_check: FAILED: painting the samples at $size px"
        failed=1
    fi
done
exit $failed
