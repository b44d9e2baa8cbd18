#!/usr/bin/env bash
# Times `rampart triage` side by side with `lynis audit system --quick`, and rampart's
# socket listing (`rampart triage --only network`) with `ss -tulpn`, and prints the ratios.
# Run as root on the machine to measure (both tools see more as root).
#   RUNS=20 bench/triage.sh        # runs per rampart/ss measurement (default 10)
#   SKIP_LYNIS=1 bench/triage.sh   # skip the slow lynis run
#   RAMPART_BIN=/path/rampart bench/triage.sh
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-10}
# RAMPART_BIN=path skips the build (to time a binary built elsewhere).
bin=${RAMPART_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release -p rampart >&2
  bin=target/release/rampart
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# mean wall seconds of a command over $2 runs (hyperfine when installed, else a loop);
# findings make rampart exit 1 or 2, which is not a failure here.
mean() {
  local name=$1 n=$2; shift 2
  if command -v hyperfine >/dev/null; then
    hyperfine -N -i --warmup 1 --runs "$n" --export-json "$tmp/$name.json" -- "$(printf '%q ' "$@")" >&2
    sed -n 's/.*"mean": *\([0-9.eE+-]*\).*/\1/p' "$tmp/$name.json" | head -1
  else
    "$@" >/dev/null 2>&1 || true
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 || true; done
    end=$(date +%s%N)
    awk -v s="$start" -v e="$end" -v n="$n" 'BEGIN { printf "%.6f\n", (e - s) / n / 1e9 }'
  fi
}

# user+system seconds of the last hyperfine run named $1 (empty without hyperfine):
# less disturbed than wall time on a busy machine.
cpu() {
  [ -f "$tmp/$1.json" ] || return 0
  local u s
  u=$(sed -n 's/.*"user": *\([0-9.eE+-]*\).*/\1/p' "$tmp/$1.json" | head -1)
  s=$(sed -n 's/.*"system": *\([0-9.eE+-]*\).*/\1/p' "$tmp/$1.json" | head -1)
  awk -v u="$u" -v s="$s" 'BEGIN { printf "%.4f", u + s }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "== rampart triage (full, live host) ==" >&2
t_triage=$(mean triage "$runs" "$bin" triage --json)
"$bin" triage --json | tail -1 >&2 || true

echo "== rampart triage --only network vs ss -tulpn (interleaved) ==" >&2
# One run of each in turn (order alternating), so that load changing on a shared machine
# hits both alike; wall from the parent, CPU from the children's rusage.
read -r t_net t_ss m_net m_ss c_net c_ss < <(python3 - "$((runs * 10))" "$bin" <<'PY'
import os, resource, statistics, subprocess, sys, time
n, binary = int(sys.argv[1]), sys.argv[2]
cmds = {"net": [binary, "triage", "--only", "network", "--json"], "ss": ["ss", "-tulpn"]}
wall = {k: [] for k in cmds}
cpu = {k: 0.0 for k in cmds}
with open(os.devnull, "w") as null:
    for i in range(n + 2):
        for k in (("net", "ss") if i % 2 else ("ss", "net")):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmds[k], stdout=null, stderr=null)
            t1 = time.perf_counter()
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i >= 2:  # two warm-up rounds
                wall[k].append(t1 - t0)
                cpu[k] += (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
m = statistics.mean
print(f"{m(wall['net']):.6f} {m(wall['ss']):.6f} {statistics.median(wall['net']):.6f} "
      f"{statistics.median(wall['ss']):.6f} {cpu['net'] / n:.6f} {cpu['ss'] / n:.6f}")
PY
)
n_ss=$(ss -Htuln | wc -l)
n_rampart=$("$bin" triage --only network --json | grep -o '"location":"\(tcp\|udp\) [^"]*"' | wc -l || true)

t_lynis=""
if [ -z "${SKIP_LYNIS:-}" ] && command -v lynis >/dev/null; then
  echo "== lynis audit system --quick (one run, 900 s cap) ==" >&2
  start=$(date +%s%N)
  timeout 900 lynis audit system --quick --no-colors --no-log >/dev/null 2>&1 || true
  end=$(date +%s%N)
  t_lynis=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", (e - s) / 1e9 }')
fi

echo
printf '%-40s %10.3f s (mean of %s)\n' "rampart triage" "$t_triage" "$runs"
if [ -n "$t_lynis" ]; then
  printf '%-40s %10.3f s (1 run)\n' "lynis audit system --quick" "$t_lynis"
  echo "ratio lynis / rampart triage: $(ratio "$t_lynis" "$t_triage")x"
else
  echo "lynis: not run (not installed or SKIP_LYNIS set)"
fi
printf '%-40s %10.4f s mean, %.4f s median of %s (%s sockets)\n' "rampart triage --only network" "$t_net" "$m_net" "$((runs * 10))" "$n_rampart"
printf '%-40s %10.4f s mean, %.4f s median of %s (%s sockets)\n' "ss -tulpn" "$t_ss" "$m_ss" "$((runs * 10))" "$n_ss"
echo "ratio rampart network / ss -tulpn: $(ratio "$t_net" "$t_ss") wall mean, $(ratio "$m_net" "$m_ss") wall median, $(ratio "$c_net" "$c_ss") cpu (below 1 means rampart is faster)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
