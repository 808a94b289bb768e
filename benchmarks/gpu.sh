#!/usr/bin/env bash
# Every family's throughput at large N beside the peers used on CPU, on a machine with a GPU (issue 15, item 4).
#
#     pip install -e ".[bench]" "jax[cuda12]"
#     bash benchmarks/gpu.sh [N]        # N = 65536 by default
#
# Writes benchmarks/results/gpu.md (or $OUT): `realax bench --all` (every registered id: env steps/s, compile
# time, bytes of state per env, the device on every row), then gymnax CartPole beside Spectrum, JaxMARL's SMAX
# 3m/2s3z and JaxNav beside realax's SMAX and AGV, all at N, each piece under its own time limit so the whole
# script stays within about 5 minutes. It refuses to run without a GPU (ALLOW_CPU=1 to smoke-test it on CPU).
set -euo pipefail
N=${1:-65536}
OUT=${OUT:-benchmarks/results/gpu.md}
PY=${PYTHON:-python}
PLATFORM=$($PY -c "import jax; print(jax.devices()[0].platform)")
if [[ "$PLATFORM" != "gpu" && "${ALLOW_CPU:-0}" != "1" ]]; then
    echo "benchmarks/gpu.sh: JAX sees no GPU (platform: $PLATFORM); install jax[cuda12], or ALLOW_CPU=1 to try it on CPU" >&2
    exit 2
fi
DEVICE=$($PY -c "from realax.bench import device_name; print(device_name())")
piece() {  # title, time limit (s), command...
    local title=$1 limit=$2; shift 2
    echo; echo "## $title"; echo; echo '```'
    timeout "$limit" "$@" 2>&1 | grep -v -E "^\s*$|Warning|warn\(" || echo "(stopped: over ${limit} s or failed)"
    echo '```'
}
{
    echo "# Throughput at N = $N on $DEVICE"
    echo
    echo "Made by \`bash benchmarks/gpu.sh $N\` on $(date -u +%Y-%m-%d), jax $($PY -c 'import jax; print(jax.__version__)')."
    echo
    $PY -m realax.cli bench --all --num-envs "$N" --num-steps 50
    piece "Spectrum beside gymnax CartPole-v1 (same measuring code)" 60 \
        $PY benchmarks/spectrum_throughput.py --num-envs "$N" --num-steps 50
    piece "SMAX beside JaxMARL SMAX" 90 $PY benchmarks/smax_throughput.py --num-envs "$N" --repeats 2 --steps 50
    piece "AGV beside JaxMARL JaxNav (64 beams)" 60 $PY benchmarks/agv_throughput.py --num-envs "$N" --repeats 2 --num-steps 50
} | tee "$OUT"
