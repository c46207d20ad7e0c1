#!/usr/bin/env bash
# End-to-end ingest benchmark (issue 4): DCMTK's storescu sends 2000 CT instances (10 studies x 200, 512x512x16 bit)
# over 1 and over 4 associations (4 storescu at once, a quarter of the files each), in the same run, to DCMTK storescp
# (writes to disk, no fsync, no index), Orthanc (stores and indexes in SQLite before it acknowledges) and
# `./yingyun serve` (acknowledges once durable, fsync on; indexes asynchronously through the event log).
# For Yingyun it also measures "acknowledged and indexed": the time from the last acknowledgement until /api/stats
# reports totals.lag == 0 (every consumer group caught up), and the index lag p50/p99 of the timed instances from the
# yingyun_index_lag_seconds histogram at /metrics (receipt start to the index consumer's commit).
# Prints a table of instances/s, MB/s and ratios; raw figures in bench/out/ingest/.
#   bench/ingest.sh [--repeat R] [--record]     (best of R runs, default 1; --record appends to bench/RESULTS.md)
# Every DCMTK program (and Orthanc, built on DCMTK) runs with TCP_NODELAY=1: without it DCMTK waits on delayed ACKs.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
command_line="bench/ingest.sh $*"
repeat=1
record=0
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat="$2"; shift 2 ;;
    --record) record=1; shift ;;
    *) echo "usage: bench/ingest.sh [--repeat R] [--record]" >&2; exit 2 ;;
  esac
done
shared="${YINGYUN_SHARED:-}"
if [ -z "$shared" ]; then
  for s in "$repo/../shared" "$repo/../../shared"; do [ -f "$s/bench-data/gen_dataset.py" ] && { shared="$s"; break; }; done
fi
[ -n "$shared" ] || { echo "bench: the shared folder with bench-data/gen_dataset.py was not found; set YINGYUN_SHARED" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 TCP_NODELAY=1
py=/usr/bin/python3

need=()
for p in dcmtk orthanc python3-pydicom python3-numpy; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# ---- data: the CT dataset and a small warm-up series with other UIDs ---------------------------------------------
data="$repo/bench/data/ct10x200"
if [ ! -f "$data/manifest.json" ]; then
  echo "bench: generating 10 CT studies x 200 instances into bench/data/ct10x200 ..." >&2
  rm -rf "$data"
  $py "$shared/bench-data/gen_dataset.py" --studies 10 --instances 200 --no-extras --out "$data"
fi
# Warm-up before each timed run: every receiver starts fresh, and Yingyun's JIT compiles its receive path fully
# optimised only after some calls (tiered compilation); DCMTK and Orthanc are native code.
warm="$repo/bench/data/warmup100"
if [ ! -f "$warm/manifest.json" ]; then
  rm -rf "$warm"
  $py "$shared/bench-data/gen_dataset.py" --studies 1 --instances 100 --no-extras --seed 20261123 --out "$warm" >/dev/null
fi

out="$repo/bench/out/ingest"
rm -rf "$out"; mkdir -p "$out"
recv="$out/received"
find "$data" -name '*.dcm' | sort > "$out/files.txt"
files=$(wc -l < "$out/files.txt")
bytes=$(xargs -a "$out/files.txt" stat -c %s | awk '{s+=$1} END {print s}')
awk -v dir="$out" '{print > (dir "/list" (NR-1)%4)}' "$out/files.txt"
find "$warm" -name '*.dcm' | sort > "$out/warm.txt"
warm_files=$(wc -l < "$out/warm.txt")
echo "bench: $files files, $((bytes / 1048576)) MiB; warming the page cache" >&2
xargs -a "$out/files.txt" cat > /dev/null
xargs -a "$out/warm.txt" cat > /dev/null

echo "bench: building Yingyun (Release) ..." >&2
./yingyun --help > /dev/null

# ---- helpers -----------------------------------------------------------------------------------------------------
free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits until $1 is a listening TCP port (the kernel's table: no probe connection), or process $2 has died.
wait_listening() {
  local hex; hex=$(printf '%04X' "$1")
  for _ in $(seq 1 1200); do
    if awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p && $4 == "0A" {found=1} END {exit !found}' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
      return 0
    fi
    kill -0 "$2" 2>/dev/null || { echo "bench: the receiver (pid $2) died before listening" >&2; return 1; }
    sleep 0.05
  done
  echo "bench: nothing listens on port $1 after 60 s" >&2; return 1
}

rpid=""; rport=""; rae=""; rhttp=""
# start_receiver NAME: starts NAME on free ports with a fresh $recv; sets rpid, rport, rae, rhttp.
start_receiver() {
  rm -rf "$recv"; mkdir -p "$recv"
  rport=$(free_port); rhttp=$(free_port)
  case "$1" in
    storescp)
      rae=STORESCP
      # --fork: one process per association, so that 4 associations are received in parallel.
      storescp --fork -aet "$rae" -od "$recv" "$rport" > "$out/storescp.log" 2>&1 &
      rpid=$! ;;
    orthanc)
      rae=ORTHANC
      mkdir -p "$recv/storage" "$recv/index"
      cat > "$out/orthanc.json" <<EOF
{
  "Name": "YingyunBench",
  "StorageDirectory": "$recv/storage",
  "IndexDirectory": "$recv/index",
  "StorageCompression": false,
  "HttpServerEnabled": true,
  "HttpPort": $rhttp,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomServerEnabled": true,
  "DicomAet": "$rae",
  "DicomPort": $rport,
  "DicomCheckCalledAet": false,
  "SaveJobs": false,
  "Plugins": []
}
EOF
      Orthanc "$out/orthanc.json" > "$out/orthanc.log" 2>&1 &
      rpid=$! ;;
    yingyun)
      rae=YINGYUN
      ./yingyun serve --data "$recv" --dimse-port "$rport" --http-port "$rhttp" --ae-title "$rae" > "$out/yingyun.log" 2>&1 &
      rpid=$! ;;
  esac
  wait_listening "$rport" "$rpid"
  if [ "$1" != storescp ]; then wait_listening "$rhttp" "$rpid"; fi
}

stop_receiver() {
  [ -n "$rpid" ] || return 0
  kill -TERM "$rpid" 2>/dev/null || true
  for _ in $(seq 1 1200); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$rpid" 2>/dev/null || true
  wait "$rpid" 2>/dev/null || true
  rpid=""
}
trap stop_receiver EXIT

# Instances the receiver holds now (Yingyun: records the index consumer committed).
received_count() {
  case "$1" in
    orthanc) $py -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/statistics"))["CountInstances"])' "$rhttp" ;;
    storescp) find "$recv" -type f | wc -l ;;
    yingyun) $py -c 'import json, sys, urllib.request; s=json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/stats")); print(next(g["processedRecords"] for g in s["consumers"] if g["group"] == "index"))' "$rhttp" ;;
  esac
}

# send LIST... : one storescu per list, all at once; prints start and end (epoch seconds): the first storescu starts
# just before its first byte, the last exits just after its last acknowledgement (and release).
send() {
  local t0 t1 pids=() list
  t0=$(date +%s.%N)
  for list in "$@"; do
    mapfile -t batch < "$list"
    storescu -aec "$rae" 127.0.0.1 "$rport" "${batch[@]}" >> "$out/storescu.log" 2>&1 &
    pids+=($!)
  done
  local failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  t1=$(date +%s.%N)
  [ "$failed" = 0 ] || { echo "bench: storescu failed (see bench/out/ingest/storescu.log)" >&2; return 1; }
  echo "$t0 $t1"
}

# Yingyun: polls /api/stats every 5 ms until totals.lag == 0; prints the seconds from $2 (epoch) to when the index
# group and then every group had caught up.
wait_drained() {
  $py - "$rhttp" "$2" <<'PY'
import json, sys, time, urllib.request
port, since = sys.argv[1], float(sys.argv[2])
index_done = None
deadline = time.time() + 600
while time.time() < deadline:
    s = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stats"))
    now = time.time()
    if index_done is None and next(g["lag"] for g in s["consumers"] if g["group"] == "index") == 0:
        index_done = now
    if s["totals"]["lag"] == 0:
        print(f"{index_done - since:.3f} {now - since:.3f}")
        sys.exit(0)
    time.sleep(0.005)
sys.exit("bench: Yingyun's consumers did not catch up within 600 s")
PY
}

# Yingyun: the cumulative yingyun_index_lag_seconds buckets now, as "le=count" words.
lag_buckets() {
  $py - "$rhttp" <<'PY'
import re, sys, urllib.request
text = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics").read().decode()
print(" ".join(f"{m[0]}={m[1]}" for m in re.findall(r'^yingyun_index_lag_seconds_bucket\{[^}]*le="([^"]+)"\} (\d+)', text, re.M)))
PY
}

load() { cut -d' ' -f1 /proc/loadavg; }

# ---- throughput --------------------------------------------------------------------------------------------------
receivers=(storescp orthanc yingyun)
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.txt" >&2
: > "$out/times.tsv"
for r in $(seq 1 "$repeat"); do
  for assoc in 1 4; do
    # A different receiver goes first in each repetition, so that none always runs on a cooler machine.
    for i in 0 1 2; do
      name=${receivers[$(( (i + r) % 3 ))]}
      start_receiver "$name"
      send "$out/warm.txt" > /dev/null
      before=""; indexed="- -"
      if [ "$name" = yingyun ]; then wait_drained "$rhttp" "$(date +%s.%N)" > /dev/null; before=$(lag_buckets); fi
      lists=("$out/files.txt"); [ "$assoc" = 4 ] && lists=("$out"/list0 "$out"/list1 "$out"/list2 "$out"/list3)
      sync
      la=$(load)
      times=$(send "${lists[@]}")
      read -r t0 t1 <<< "$times"
      if [ "$name" = yingyun ]; then
        indexed=$(wait_drained "$rhttp" "$t1")
        printf '%s\t%s\t%s\t%s\n' "$assoc" "$r" "$before" "$(lag_buckets)" >> "$out/lag_buckets.tsv"
      fi
      got=$(received_count "$name")
      stop_receiver
      want=$((files + warm_files))
      [ "$got" = "$want" ] || { echo "bench: $name holds $got instances, expected $want" >&2; exit 1; }
      seconds=$(echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}')
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$assoc" "$r" "$seconds" "$la" "${indexed// /$'\t'}" | tee -a "$out/times.tsv" >&2
      rm -rf "$recv"; sync
    done
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt" >&2

$py - "$out" "$files" "$bytes" "$command_line" "$repeat" > "$out/report.md" <<'PY'
import datetime, sys
out, files, size, command, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
best = {}
for line in open(f"{out}/times.tsv"):
    name, assoc, rep, seconds, load, index_s, drain_s = line.rstrip("\n").split("\t")
    key = name, int(assoc)
    if key not in best or float(seconds) < best[key]["s"]:
        best[key] = {"s": float(seconds), "load": load, "rep": rep,
                     "index": None if index_s == "-" else float(index_s), "drain": None if drain_s == "-" else float(drain_s)}

def quantiles(before, after):
    """p50 and p99 from the delta of cumulative Prometheus buckets, interpolated linearly inside a bucket."""
    parse = lambda words: [(float("inf") if le == "+Inf" else float(le), int(n)) for le, n in (w.split("=") for w in words.split())]
    b = dict(parse(before)) if before else {}
    a = parse(after)
    counts = [(le, n - b.get(le, 0)) for le, n in a]
    total = counts[-1][1]
    result = []
    for q in (0.5, 0.99):
        rank, lower, below = q * total, 0.0, 0
        for le, n in counts:
            if n >= rank:
                if le == float("inf"):
                    result.append(lower); break
                result.append(lower + (le - lower) * ((rank - below) / (n - below) if n > below else 1)); break
            lower, below = le, n
    return total, result

lag = {}
for line in open(f"{out}/lag_buckets.tsv"):
    assoc, rep, before, after = line.rstrip("\n").split("\t")
    lag[int(assoc), rep] = quantiles(before, after)

mb = size / 1e6
labels = {"storescp": "DCMTK storescp --fork (disk, no fsync)", "orthanc": "Orthanc (stores + indexes)", "yingyun": "Yingyun `serve` (fsync, acknowledged = durable)"}
print(f"{files} CT instances (10 studies x 200, 512x512x16 bit), {mb:.0f} MB, sent by DCMTK storescu (TCP_NODELAY=1); "
      f"best of {repeat} run(s); date {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; "
      f"command `{command}`\n")
print("| receiver | associations | seconds (first byte to last ack) | instances/s | MB/s | load avg (1 min) at start |")
print("|---|---:|---:|---:|---:|---:|")
for assoc in (1, 4):
    for name in ("storescp", "orthanc", "yingyun"):
        b = best[name, assoc]
        print(f"| {labels[name]} | {assoc} | {b['s']:.2f} | {files / b['s']:,.0f} | {mb / b['s']:,.0f} | {b['load']} |")
print()
print("| Yingyun, acknowledged and indexed | associations | last ack to index lag 0 | last ack to totals.lag 0 | index lag p50 | index lag p99 | instances in histogram |")
print("|---|---:|---:|---:|---:|---:|---:|")
for assoc in (1, 4):
    b = best["yingyun", assoc]
    total, (p50, p99) = lag[assoc, b["rep"]]
    print(f"| serve | {assoc} | {b['index']:.2f} s | {b['drain']:.2f} s | {p50 * 1000:.0f} ms | {p99 * 1000:.0f} ms | {total} |")
print()
for assoc in (1, 4):
    y = best["yingyun", assoc]["s"]
    target = 0.8 if assoc == 1 else 1.0
    print(f"- {assoc} association{'s' if assoc > 1 else ''}: Yingyun {best['storescp', assoc]['s'] / y:.2f}x storescp (target >= {target}), "
          f"{best['orthanc', assoc]['s'] / y:.2f}x Orthanc (target >= 2.5)")
print("- index lag p99 target: < 1 s")
print()
print("  " + open(f"{out}/load.txt").read().strip().replace("\n", "; "))
PY
cat "$out/report.md"
if [ "$record" = 1 ]; then
  { echo; cat "$out/report.md"; } >> "$repo/bench/RESULTS.md"
  echo "bench: appended to bench/RESULTS.md" >&2
fi
