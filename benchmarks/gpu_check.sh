#!/usr/bin/env bash
# The GPU check: what only a CUDA machine can show, prepared to run in under 8 minutes on one GPU.
#
#   1. the DCGAN step benchmark (3 x 64 x 64, batch 128): the trainer with AMP + channels_last
#      against the plain loop of PyTorch's DCGAN example (goal: >= 2x on CUDA);
#   2. the smoke run of the full profile on CUDA: every notebook under nbval with
#      GANCOURSE_PROFILE=full GANCOURSE_SMOKE=1 on stand-in data (tests/standins.py);
#   3. distributed training (scripts/train_distributed.py, the DCGAN on glyphs, the same batch per
#      rank): one rank, then every GPU of the machine under torchrun; the samples per second of
#      the two runs give the speed-up (on one GPU, or on the CPU, only the one-rank line).
#
# Usage, from the repository root:
#   bash benchmarks/gpu_check.sh prepare   # here, with PyPI: fetch the wheels the GPU image lacks into .whl/
#   bash benchmarks/gpu_check.sh run       # there (carry .whl): install them, run 1 and 2, logs in $OUT
# A machine without CUDA runs `run` too (on the CPU, the benchmark at 28 x 28), to test this script;
# there the smoke run needs longer than on a GPU: e.g. SMOKE_TIMEOUT=900 bash benchmarks/gpu_check.sh run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 MPLBACKEND=agg

case "${1:-}" in
prepare)
    # The GPU image has Python 3.12 and no package index: wheels travel with the working tree.
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl -r benchmarks/gpu_wheels.txt
    echo "wheels in .whl/: $(ls .whl | wc -l) files, $(du -sh .whl | cut -f1)"
    ;;
run)
    if ! python3 -c "import nbval, pytorch_fid, mlxtend" 2>/dev/null && [ -d .whl ]; then
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target /tmp/site .whl/*.whl
        export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
    fi
    export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
    python3 - <<'EOF' | tee "$OUT/machine.txt"
import platform, torch
cuda = torch.cuda.is_available()
print(f"python {platform.python_version()}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"device: {torch.cuda.get_device_name() if cuda else 'CPU only'}")
EOF
    if python3 -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
        bench=(--image-size 64 --channels 3 --batch 128 --steps 50 --warmup 10 --rounds 5)
    else
        bench=(--image-size 28 --channels 1 --batch 64 --steps 5 --warmup 2 --rounds 2)
    fi
    echo "== 1. DCGAN step benchmark"
    timeout 120 python3 benchmarks/dcgan_step.py "${bench[@]}" 2>&1 | tee "$OUT/dcgan_step.txt"
    echo "== 2. the full profile's smoke run of every notebook"
    data=$(mktemp -d)
    python3 -m tests.standins "$data" > /dev/null
    start=$(date +%s)
    GANCOURSE_PROFILE=full GANCOURSE_SMOKE=1 GANCOURSE_DATA="$data" PYTHONOPTIMIZE=1 \
        timeout "${SMOKE_TIMEOUT:-300}" python3 -m pytest -p no:cacheprovider notebooks --nbval-lax \
        --nbval-current-env --nbval-cell-timeout=240 --durations=12 2>&1 | tee "$OUT/smoke.txt"
    echo "smoke run: $(( $(date +%s) - start )) s" | tee -a "$OUT/smoke.txt"
    echo "== 3. distributed training: one rank, then every GPU"
    gpus=$(python3 -c "import torch; print(torch.cuda.device_count())")
    dist=(scripts/train_distributed.py --model dcgan --data glyphs --steps 200 --batch-size 128)
    timeout 180 python3 -m torch.distributed.run --nproc_per_node=1 "${dist[@]}" 2>&1 | tail -3 \
        | tee "$OUT/distributed.txt" || true
    if [ "$gpus" -gt 1 ]; then
        timeout 240 python3 -m torch.distributed.run --nproc_per_node="$gpus" "${dist[@]}" 2>&1 | tail -3 \
            | tee -a "$OUT/distributed.txt" || true
    else
        echo "one GPU or none: no multi-rank run (the speed-up needs several GPUs)" | tee -a "$OUT/distributed.txt"
    fi
    ;;
*)
    echo "usage: bash benchmarks/gpu_check.sh prepare|run" >&2
    exit 2
    ;;
esac
