#!/usr/bin/env bash
# WAF benchmark: wrk against Rampart+CRS and Apache+ModSecurity v2+CRS in the same run,
# both reverse proxies in front of the same static page served by a plain Apache,
# plus that upstream alone. Then Rampart's resident memory over 100 rule reloads.
#
# Usage (as root, from anywhere):
#   [RAMPART_BIN=path] [ROUNDS=3] [PACE_MS=2] bench/waf/run.sh [DURATION_SECONDS] [RELOADS]
# Needs: wrk, apache2, libapache2-mod-security2 (installed here when missing).
# Ports used on 127.0.0.1: 18080 (upstream), 18081 (Apache+ModSecurity), 18082 (Rampart),
# 18083 (Rampart without rules: the proxy's own cost), 18084 (Rampart with a worker per core).
set -euo pipefail

DURATION="${1:-10}"
RELOADS="${2:-100}"
ROUNDS="${ROUNDS:-3}"
CONNS=10
THREADS=2
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
CRS="$(cd "$REPO/../shared/crs" && pwd)"
W="$(mktemp -d /tmp/rampart-waf-bench.XXXXXX)"
chmod 755 "$W"
UP=18080 MS=18081 RP=18082 RN=18083 R1=18084

need=()
for p in wrk apache2 libapache2-mod-security2; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  echo "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# RAMPART_BIN=/path/to/rampart measures a given build (e.g. an older copy) instead.
if [ -n "${RAMPART_BIN:-}" ]; then
  RAMPART="$RAMPART_BIN"
else
  echo "building rampart (release)…"
  (cd "$REPO" && cargo build --release --bin rampart 2>&1 | tail -1)
  RAMPART="$REPO/target/release/rampart"
fi

pids=()
cleanup() {
  for f in "$W"/upstream.pid "$W"/modsec.pid; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

MODS=/usr/lib/apache2/modules
mkdir -p "$W/www" "$W/modsec-tmp" "$W/modsec-data"
chown www-data:www-data "$W/modsec-tmp" "$W/modsec-data"
# A small static page (about 1 KB).
{
  echo '<!DOCTYPE html><html><head><title>Rampart bench</title></head><body>'
  for i in $(seq 1 20); do echo "<p>Static line $i of the benchmark page.</p>"; done
  echo '</body></html>'
} > "$W/www/index.html"
chmod -R a+rX "$W/www"

common_conf() {
  cat <<CONF
ServerRoot /etc/apache2
ServerName localhost
User www-data
Group www-data
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule mime_module $MODS/mod_mime.so
TypesConfig /etc/mime.types
StartServers 2
ServerLimit 4
ThreadsPerChild 25
MaxRequestWorkers 100
KeepAlive On
MaxKeepAliveRequests 0
LogLevel warn
CONF
}

# 1. The upstream: plain Apache serving the page.
{
  common_conf
  cat <<CONF
Listen 127.0.0.1:$UP
PidFile $W/upstream.pid
ErrorLog $W/upstream-error.log
DocumentRoot $W/www
<Directory $W/www>
  Require all granted
</Directory>
CONF
} > "$W/upstream.conf"

# 2. Apache + ModSecurity v2 + CRS 4 as a reverse proxy to the same upstream.
# Compatibility notes for ModSecurity 2.9.7 (see README.md): the same engine base
# config as Rampart (conf/modsecurity-base.conf is plain ModSecurity syntax), then
# crs-setup.conf.example and rules/*.conf unmodified.
{
  common_conf
  cat <<CONF
Listen 127.0.0.1:$MS
PidFile $W/modsec.pid
ErrorLog $W/modsec-error.log
LoadModule unique_id_module $MODS/mod_unique_id.so
LoadModule security2_module $MODS/mod_security2.so
LoadModule proxy_module $MODS/mod_proxy.so
LoadModule proxy_http_module $MODS/mod_proxy_http.so
SecTmpDir $W/modsec-tmp
SecDataDir $W/modsec-data
SecAuditLog $W/modsec-audit.log
Include $REPO/crates/rampart-proxy/conf/modsecurity-base.conf
Include $CRS/crs-setup.conf.example
Include $CRS/rules/*.conf
ProxyPass / http://127.0.0.1:$UP/
ProxyPassReverse / http://127.0.0.1:$UP/
CONF
} > "$W/modsec.conf"

/usr/sbin/apache2 -f "$W/upstream.conf" -k start
/usr/sbin/apache2 -t -f "$W/modsec.conf" 2>&1 | tail -3
/usr/sbin/apache2 -f "$W/modsec.conf" -k start

# 3. Rampart + the same rules (PL1, blocking). Each Rampart runs in a session of its own, as
# each Apache does (it daemonizes): with the kernel's autogroups, a process shares CPU time
# with the rest of its session, and a Rampart left in this script's session would be
# scheduled as one group with wrk, its own load generator (p99 of 10-40 ms from that alone).
setsid "$RAMPART" waf --listen "127.0.0.1:$RP" --upstream "http://127.0.0.1:$UP" \
  --rules "$REPO/crates/rampart-proxy/conf/modsecurity-base.conf" "$CRS/crs-setup.conf.example" "$CRS/rules" \
  --error-log "$W/rampart-error.log" 2> "$W/rampart.stderr" &
RPID=$!
pids+=("$RPID")
# The same with a worker thread per core (the default is half the cores: here wrk and the
# upstream share the cores with the proxy).
setsid "$RAMPART" waf --workers "$(nproc)" --listen "127.0.0.1:$R1" --upstream "http://127.0.0.1:$UP" \
  --rules "$REPO/crates/rampart-proxy/conf/modsecurity-base.conf" "$CRS/crs-setup.conf.example" "$CRS/rules" \
  2> "$W/rampart-allcores.stderr" &
pids+=("$!")
# The same proxy with an empty rule set: what the proxy itself costs.
echo "SecRuleEngine On" > "$W/no-rules.conf"
setsid "$RAMPART" waf --listen "127.0.0.1:$RN" --upstream "http://127.0.0.1:$UP" --rules "$W/no-rules.conf" \
  2> "$W/rampart-norules.stderr" &
pids+=("$!")

wait_port() {
  for _ in $(seq 1 200); do
    if curl -s -o /dev/null "http://127.0.0.1:$1/index.html" 2>/dev/null \
       || (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "port $1 did not come up" >&2; exit 1
}
wait_port $UP; wait_port $MS; wait_port $RP; wait_port $RN; wait_port $R1

# Sanity: each path serves the page, and both WAFs block an obvious attack.
check() { # port path expected-status
  local got
  got=$(exec 3<>"/dev/tcp/127.0.0.1/$1"; printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Mozilla/5.0\r\nAccept: text/html\r\nConnection: close\r\n\r\n' "$2" >&3; head -c 12 <&3 | cut -d' ' -f2)
  [ "$got" = "$3" ] || { echo "sanity check failed: port $1 $2 answered $got, want $3" >&2; exit 1; }
}
for p in $UP $MS $RP $RN $R1; do check $p /index.html 200; done
check $MS "/index.html?id=1%27%20or%201=1--" 403
check $RP "/index.html?id=1%27%20or%201=1--" 403

HDRS=(-H "Host: localhost" -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) bench" -H "Accept: text/html,application/xhtml+xml" -H "Accept-Language: en")
bench() { # name port key
  local out rps p99
  out=$(wrk -t$THREADS -c$CONNS -d"${DURATION}s" --latency "${HDRS[@]}" "http://127.0.0.1:$2/index.html")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  local errs; errs=$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)
  printf '  %-28s %12s req/s   p99 %8s %s\n' "$1" "$rps" "$p99" "$errs"
  eval "RPS_$3+=(\"$rps\"); P99_$3+=(\"$(to_ms "$p99")\")"
}
to_ms() { awk -v v="$1" 'BEGIN{ if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v} else if (v ~ /s$/) {sub(/s$/,"",v); print v*1000} else print v }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# The machine is shared: each round measures all four one after the other, and the
# medians over the rounds are reported, so a burst of outside load skews one round only.
RPS_UP=(); RPS_MS=(); RPS_RP=(); RPS_RN=(); RPS_R1=(); P99_UP=(); P99_MS=(); P99_RP=(); P99_RN=(); P99_R1=(); RATIOS=(); ADDED=(); RATIOS1=(); ADDED1=()
echo
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk: $THREADS threads, $CONNS connections, ${DURATION}s each, GET /index.html ($(stat -c %s "$W/www/index.html") bytes), $ROUNDS rounds"
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r (load average $(cut -d' ' -f1 /proc/loadavg)):"
  bench "upstream (Apache static)" $UP UP
  bench "Apache + ModSecurity + CRS" $MS MS
  bench "Rampart + CRS" $RP RP
  bench "Rampart + CRS, worker/core" $R1 R1
  bench "Rampart, no rules" $RN RN
  RATIOS+=("$(awk -v r="${RPS_RP[-1]}" -v m="${RPS_MS[-1]}" 'BEGIN{printf "%.2f", r/m}')")
  ADDED+=("$(awk -v r="${P99_RP[-1]}" -v u="${P99_UP[-1]}" 'BEGIN{printf "%.3f", r-u}')")
  RATIOS1+=("$(awk -v r="${RPS_R1[-1]}" -v m="${RPS_MS[-1]}" 'BEGIN{printf "%.2f", r/m}')")
  ADDED1+=("$(awk -v r="${P99_R1[-1]}" -v u="${P99_UP[-1]}" 'BEGIN{printf "%.3f", r-u}')")
  echo "  Rampart / ModSecurity: ${RATIOS[-1]}x, p99 added by Rampart: ${ADDED[-1]} ms (a worker per core: ${RATIOS1[-1]}x, ${ADDED1[-1]} ms)"
done
echo
echo "medians over $ROUNDS rounds:"
for k in UP MS RP R1 RN; do
  eval "m_rps_$k=\$(median \"\${RPS_$k[@]}\"); m_p99_$k=\$(median \"\${P99_$k[@]}\")"
done
printf '  %-28s %12s req/s   p99 %8s ms\n' "upstream (Apache static)" "$m_rps_UP" "$m_p99_UP" \
  "Apache + ModSecurity + CRS" "$m_rps_MS" "$m_p99_MS" "Rampart + CRS" "$m_rps_RP" "$m_p99_RP" \
  "Rampart + CRS, worker/core" "$m_rps_R1" "$m_p99_R1" "Rampart, no rules" "$m_rps_RN" "$m_p99_RN"
awk -v r="$m_rps_RP" -v m="$m_rps_MS" 'BEGIN{printf "Rampart / ModSecurity requests/s (ratio of the medians): %.2fx\n", r/m}'
echo "Rampart / ModSecurity requests/s, median of the per-round ratios: $(median "${RATIOS[@]}")x (rounds: ${RATIOS[*]})"
echo "p99 added by Rampart, median of the per-round differences: $(median "${ADDED[@]}") ms (rounds: ${ADDED[*]})"
echo "with a worker per core: $(median "${RATIOS1[@]}")x (rounds: ${RATIOS1[*]}), p99 added $(median "${ADDED1[@]}") ms (rounds: ${ADDED1[*]})"
awk -v r="$m_p99_RP" -v u="$m_p99_UP" -v m="$m_p99_MS" \
  'BEGIN{printf "p99 added over the bare upstream: Rampart %.3f ms, ModSecurity %.3f ms\n", r-u, m-u}'
awk -v n="$m_rps_RN" -v u="$m_rps_UP" 'BEGIN{printf "Rampart without rules / bare upstream requests/s: %.2f\n", n/u}'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

# 4. Latency at a fixed load below saturation. Above, every target runs flat out, so its p99 is
# mostly queueing on the shared cores (wrk, the upstream's threads and the proxy). Here each
# connection pauses PACE_MS between a response and its next request (wrk's delay(); latency is
# timed from the request's write): about CONNS/(PACE_MS + latency) requests/s, the same offered
# load for the upstream and for Rampart in front of it.
PACE_MS="${PACE_MS:-2}"
cat > "$W/paced.lua" <<LUA
function delay() return $PACE_MS end
done = function(summary, latency, requests)
  io.write(string.format("%.0f %.3f %.3f %.3f\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
LUA
paced() { # name port key
  local rps p50 p99 p999
  read -r rps p50 p99 p999 < <(wrk -t$THREADS -c$CONNS -d"${DURATION}s" -s "$W/paced.lua" "${HDRS[@]}" \
    "http://127.0.0.1:$2/index.html" | tail -1)
  printf '  %-28s %8s req/s   p50 %6s ms   p99 %6s ms   p99.9 %7s ms\n' "$1" "$rps" "$p50" "$p99" "$p999"
  eval "PP99_$3+=(\"$p99\")"
}
PP99_UP=(); PP99_RP=(); PP99_R1=(); PADDED=(); PADDED1=()
echo
echo "paced: each connection waits ${PACE_MS} ms between requests ($CONNS connections, ${DURATION}s each, $ROUNDS rounds)"
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r (load average $(cut -d' ' -f1 /proc/loadavg)):"
  paced "upstream (Apache static)" $UP UP
  paced "Rampart + CRS" $RP RP
  paced "Rampart + CRS, worker/core" $R1 R1
  PADDED+=("$(awk -v r="${PP99_RP[-1]}" -v u="${PP99_UP[-1]}" 'BEGIN{printf "%.3f", r-u}')")
  PADDED1+=("$(awk -v r="${PP99_R1[-1]}" -v u="${PP99_UP[-1]}" 'BEGIN{printf "%.3f", r-u}')")
done
echo "paced p99 added by Rampart, median of the per-round differences: $(median "${PADDED[@]}") ms (rounds: ${PADDED[*]})"
echo "with a worker per core: $(median "${PADDED1[@]}") ms (rounds: ${PADDED1[*]})"

# 5. Memory over rule reloads.
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$RPID/status"; }
echo
echo "Rampart RSS over $RELOADS SIGHUP reloads (KiB):"
before=$(rss); echo "  before: $before"
for i in $(seq 1 "$RELOADS"); do
  kill -HUP "$RPID"
  # Wait until this reload is done (one "Rules reloaded." line per reload).
  for _ in $(seq 1 600); do
    n=$(grep -c 'Rules reloaded' "$W/rampart-error.log" 2>/dev/null || true)
    [ "${n:-0}" -ge "$i" ] && break
    sleep 0.05
  done
  # Serve a little traffic between reloads so old engines are really released.
  check $RP /index.html 200
  if (( i % 10 == 0 )); then echo "  after $i: $(rss)"; fi
  if (( i == 10 )); then warm=$(rss); fi
done
after=$(rss)
awk -v a="$after" -v b="$before" 'BEGIN{printf "  growth over all reloads: %d KiB (%.1f%%)\n", a-b, (a-b)*100/b}'
# The first reloads grow the heap once (two rule sets coexist during a swap); a leak
# would keep growing after that.
awk -v a="$after" -v w="${warm:-$before}" 'BEGIN{printf "  growth from reload 10 to the end: %d KiB (%.1f%%)\n", a-w, (a-w)*100/w}'
# jemalloc hands freed pages back after a decay time (about 10 s), from a background thread.
sleep 15
settled=$(rss)
awk -v a="$settled" -v b="$before" 'BEGIN{printf "  15 s after the last reload: %d KiB (%+.1f%% over before)\n", a, (a-b)*100/b}'
failures=$(grep -c 'Rule reload failed' "$W/rampart-error.log" || true)
[ "${failures:-0}" -gt 0 ] && echo "  reload failures: $failures"
echo "work dir: $W"
