#!/usr/bin/env bash
# C-STORE receive benchmark (issue 3): DCMTK's storescu sends a generated CT series to DCMTK's storescp, to Orthanc and
# to Yingyun's storescp (`yingyun storescp`), all writing to disk, in the same run, over 1 and over 4 associations
# (4 storescu at once, a quarter of the files each). Then one 1 GiB instance is sent to each receiver and its peak
# resident memory above idle is read from /proc (VmHWM after resetting it). Prints a table of instances/s, MB/s and
# ratios; raw figures in bench/out/store/.
#   bench/store.sh [--instances N] [--repeat R]     (default: 2000 CT instances 512x512x16 bit, best of 3 runs)
# Every DCMTK program (and Orthanc, which is built on DCMTK) runs with TCP_NODELAY=1: without it DCMTK waits on
# delayed ACKs and everything measures ~20 instances/s.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
shared="${YINGYUN_SHARED:-$repo/../shared}"
instances=2000
repeat=3
while [ $# -gt 0 ]; do
  case "$1" in
    --instances) instances="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    *) echo "usage: bench/store.sh [--instances N] [--repeat R]" >&2; exit 2 ;;
  esac
done
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

# ---- data: the CT series, a small warm-up series (other UIDs), the 1 GiB instance --------------------------------
data="$repo/bench/data/ct$instances"
if [ ! -f "$data/manifest.json" ]; then
  echo "bench: generating $instances CT instances into bench/data/ct$instances ..." >&2
  rm -rf "$data"
  $py "$shared/bench-data/gen_dataset.py" --studies 1 --instances "$instances" --no-extras --out "$data"
fi
# Warm-up before each timed run, with other UIDs: the receivers start fresh each run, and Yingyun's JIT compiles its
# receive path fully optimised only after some calls (tiered compilation); DCMTK and Orthanc are native code.
warm="$repo/bench/data/warmup200"
if [ ! -f "$warm/manifest.json" ]; then
  rm -rf "$warm"
  $py "$shared/bench-data/gen_dataset.py" --studies 1 --instances 200 --no-extras --seed 20261123 --out "$warm" >/dev/null
fi
large="$repo/bench/data/large-1gib.dcm"
if [ ! -f "$large" ]; then
  echo "bench: writing a 1 GiB multi-frame instance to bench/data/large-1gib.dcm ..." >&2
  $py bench/make_large_instance.py "$large.tmp" --frames 2048 && mv "$large.tmp" "$large"
fi

out="$repo/bench/out/store"
rm -rf "$out"; mkdir -p "$out"
recv="$out/received"
find "$data" -name '*.dcm' | sort > "$out/files.txt"
files=$(wc -l < "$out/files.txt")
bytes=$(xargs -a "$out/files.txt" stat -c %s | awk '{s+=$1} END {print s}')
awk -v dir="$out" '{print > (dir "/list" (NR-1)%4)}' "$out/files.txt"
find "$warm" -name '*.dcm' | sort > "$out/warm.txt"
echo "bench: $files files, $((bytes / 1048576)) MiB; warming the page cache" >&2
xargs -a "$out/files.txt" cat > /dev/null
xargs -a "$out/warm.txt" cat > /dev/null
cat "$large" > /dev/null

echo "bench: building Yingyun (Release) ..." >&2
./yingyun --help > /dev/null

# ---- helpers -----------------------------------------------------------------------------------------------------
free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits until $1 is a listening TCP port (the kernel's table: no probe connection), or process $2 has died.
wait_listening() {
  local hex; hex=$(printf '%04X' "$1")
  for _ in $(seq 1 600); do
    if awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p && $4 == "0A" {found=1} END {exit !found}' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
      return 0
    fi
    kill -0 "$2" 2>/dev/null || { echo "bench: the receiver (pid $2) died before listening" >&2; return 1; }
    sleep 0.05
  done
  echo "bench: nothing listens on port $1 after 30 s" >&2; return 1
}

rpid=""; rport=""; rae=""; rhttp=""
# start_receiver NAME FORK(0/1): starts NAME on a free port writing into a fresh $recv; sets rpid, rport, rae.
start_receiver() {
  rm -rf "$recv"; mkdir -p "$recv"
  rport=$(free_port)
  case "$1" in
    storescp)
      rae=STORESCP
      local fork=(); [ "$2" = 1 ] && fork=(--fork)
      storescp "${fork[@]}" -aet "$rae" -od "$recv" "$rport" > "$out/storescp.log" 2>&1 &
      rpid=$! ;;
    orthanc)
      rae=ORTHANC
      rhttp=$(free_port)
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
      ./yingyun storescp --port "$rport" --aet "$rae" --output "$recv" --address 127.0.0.1 > "$out/yingyun.log" 2>&1 &
      rpid=$! ;;
  esac
  wait_listening "$rport" "$rpid"
  if [ "$1" = orthanc ]; then wait_listening "$rhttp" "$rpid"; fi
}

stop_receiver() {
  [ -n "$rpid" ] || return 0
  kill -TERM "$rpid" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$rpid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$rpid" 2>/dev/null || true
  wait "$rpid" 2>/dev/null || true
  rpid=""
}
trap stop_receiver EXIT

# Instances the receiver holds now.
received_count() {
  case "$1" in
    orthanc) $py -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/statistics"))["CountInstances"])' "$rhttp" ;;
    storescp) find "$recv" -type f | wc -l ;;
    yingyun) find "$recv" -name '*.dcm' | wc -l ;;
  esac
}

# send LIST... : one storescu per list, all at once; prints the wall time in seconds.
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
  [ "$failed" = 0 ] || { echo "bench: storescu failed (see bench/out/store/storescu.log)" >&2; return 1; }
  echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}'
}

# ---- throughput -------------------------------------------------------------------------------------------------
receivers=(storescp orthanc yingyun)
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/load.txt" >&2
: > "$out/times.tsv"
for r in $(seq 1 "$repeat"); do
  for assoc in 1 4; do
    # A different receiver goes first in each repetition, so that none always runs on a cooler machine.
    for i in 0 1 2; do
      name=${receivers[$(( (i + r) % 3 ))]}
      start_receiver "$name" 1
      send "$out/warm.txt" > /dev/null
      lists=("$out/files.txt"); [ "$assoc" = 4 ] && lists=("$out"/list0 "$out"/list1 "$out"/list2 "$out"/list3)
      sync
      seconds=$(send "${lists[@]}")
      got=$(received_count "$name")
      stop_receiver
      want=$((files + $(wc -l < "$out/warm.txt")))
      [ "$got" = "$want" ] || { echo "bench: $name holds $got instances, expected $want" >&2; exit 1; }
      printf '%s\t%s\t%s\t%s\n' "$name" "$assoc" "$r" "$seconds" | tee -a "$out/times.tsv" >&2
      rm -rf "$recv"; sync
    done
  done
done

# ---- peak memory for one 1 GiB instance -------------------------------------------------------------------------
: > "$out/memory.tsv"
for name in "${receivers[@]}"; do
  start_receiver "$name" 0   # storescp without --fork: the one process that receives is the one measured
  send "$out/warm.txt" > /dev/null
  idle=$(awk '/^VmRSS/ {print $2}' "/proc/$rpid/status")
  echo 5 > "/proc/$rpid/clear_refs"   # resets VmHWM to the current RSS (proc(5))
  echo "$large" > "$out/large.txt"
  outcome=stored
  seconds=$(send "$out/large.txt") || { outcome=failed; seconds=0; }
  peak=$(awk '/^VmHWM/ {print $2}' "/proc/$rpid/status" 2>/dev/null || echo 0)
  got=$(received_count "$name" 2>/dev/null || echo "?")
  stop_receiver
  want=$(( $(wc -l < "$out/warm.txt") + 1 ))
  [ "$got" = "$want" ] || outcome=failed
  [ "$name" != yingyun ] || [ "$outcome" = stored ] || { echo "bench: Yingyun did not store the 1 GiB instance" >&2; exit 1; }
  printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$idle" "$peak" "$seconds" "$outcome" | tee -a "$out/memory.tsv" >&2
  rm -rf "$recv"; sync
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt" >&2

$py - "$out" "$files" "$bytes" <<'PY'
import collections, sys
out, files, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
best = collections.defaultdict(lambda: float("inf"))
runs = collections.defaultdict(list)
for line in open(f"{out}/times.tsv"):
    name, assoc, _, seconds = line.split()
    best[name, int(assoc)] = min(best[name, int(assoc)], float(seconds))
    runs[name, int(assoc)].append(float(seconds))
labels = {"storescp": "DCMTK storescp (--fork)", "orthanc": "Orthanc", "yingyun": "Yingyun `storescp`"}
mb = size / 1e6
print(f"{files} instances, {mb:.0f} MB, sent by DCMTK storescu; best of {len(runs['yingyun', 1])} runs (all runs in times.tsv)\n")
print("| receiver | associations | seconds | instances/s | MB/s |")
print("|---|---:|---:|---:|---:|")
for assoc in (1, 4):
    for name in ("storescp", "orthanc", "yingyun"):
        s = best[name, assoc]
        print(f"| {labels[name]} | {assoc} | {s:.2f} | {files / s:,.0f} | {mb / s:,.0f} |")
print()
for assoc in (1, 4):
    y = best["yingyun", assoc]
    print(f"{assoc} association{'s' if assoc > 1 else ''}: Yingyun {best['storescp', assoc] / y:.2f}x storescp, {best['orthanc', assoc] / y:.2f}x Orthanc")
print("\n| receiver, one 1 GiB instance | idle RSS | peak RSS | peak above idle | seconds | outcome |")
print("|---|---:|---:|---:|---:|---|")
for line in open(f"{out}/memory.tsv"):
    name, idle, peak, seconds, outcome = line.split()
    idle, peak = int(idle), int(peak)
    took = f"{float(seconds):.1f}" if outcome == "stored" else ""
    print(f"| {labels[name].replace(' (--fork)', '')} | {idle / 1024:.0f} MiB | {peak / 1024:.0f} MiB | {(peak - idle) / 1024:.1f} MiB | {took} | {outcome} |")
print()
print(open(f"{out}/load.txt").read().strip())
PY
