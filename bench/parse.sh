#!/usr/bin/env bash
# Part 10 parse/write benchmark: Yingyun (BenchmarkDotNet) beside pydicom and DCMTK's dcmdump, same
# machine, same files, same run. Prints a table of files/s, MB/s and ratios; raw output in bench/out/.
#   bench/parse.sh [--instances N]        (default: a 500-slice CT series, 512x512, 16 bit)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
shared="${YINGYUN_SHARED:-$repo/../shared}"
instances=500
[ "${1:-}" = "--instances" ] && instances="$2"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

need=()
for p in dcmtk python3-pydicom python3-numpy; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

data="$repo/bench/data/ct$instances"
if [ ! -f "$data/manifest.json" ]; then
  echo "bench: generating $instances CT instances into bench/data/ct$instances ..." >&2
  rm -rf "$data"
  /usr/bin/python3 "$shared/bench-data/gen_dataset.py" --studies 1 --instances "$instances" --no-extras --out "$data"
fi
out="$repo/bench/out"; mkdir -p "$out"
files=$(find "$data" -name '*.dcm' | wc -l)
bytes=$(find "$data" -name '*.dcm' -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "bench: $files files, $((bytes / 1048576)) MiB; warming the page cache" >&2
cat $(find "$data" -name '*.dcm') > /dev/null

echo "bench: pydicom ..." >&2
/usr/bin/python3 bench/pydicom_parse.py "$data" --repeat 3 > "$out/pydicom.json"

echo "bench: dcmdump ..." >&2
list="$out/files.txt"; find "$data" -name '*.dcm' | sort > "$list"
best() { # best wall time in seconds of 3 runs of "$@"
  local b=""
  for _ in 1 2 3; do
    local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null 2>&1; t1=$(date +%s.%N)
    b=$(echo "$t0 $t1 $b" | awk '{d=$2-$1; if ($3=="" || d<$3) print d; else print $3}')
  done
  echo "$b"
}
# One process for all files (no start-up cost per file) and one process per file (how it is used).
dcm_one=$(best xargs -a "$list" dcmdump -q -M)
dcm_each=$(best xargs -a "$list" -n 1 dcmdump -q -M)
printf '{"one_process_s": %s, "process_per_file_s": %s}\n' "$dcm_one" "$dcm_each" > "$out/dcmdump.json"

echo "bench: Yingyun (BenchmarkDotNet) ..." >&2
YINGYUN_BENCH_CT="$data" dotnet run -c Release --project bench/Yingyun.Benchmarks -- \
  --filter '*ParseBenchmarks*' --warmupCount 2 --iterationCount 6 --exporters json \
  --artifacts "$out/bdn" > "$out/bdn.log" 2>&1 || { tail -30 "$out/bdn.log"; exit 1; }

/usr/bin/python3 - "$out" "$files" "$bytes" <<'PY'
import glob, json, sys
out, files, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
py = json.load(open(f"{out}/pydicom.json"))
dcm = json.load(open(f"{out}/dcmdump.json"))
report = json.load(open(glob.glob(f"{out}/bdn/results/*ParseBenchmarks*-report-full*.json")[0]))
rows = {}
for b in report["Benchmarks"]:
    rows[b["Method"]] = (b["Statistics"]["Mean"] / 1e9, b["Memory"]["BytesAllocatedPerOperation"])
mb = size / 1e6
print(f"{files} files, {mb:.0f} MB (pydicom {py['pydicom']}, dcmdump from DCMTK)\n")
print("| operation | files/s | MB/s | allocated per file |")
print("|---|---:|---:|---:|")
names = {
    "HeaderOnlyFromFile": "Yingyun header only (stop before Pixel Data), from file",
    "FullFromFile": "Yingyun full parse, pixel data loaded, from file",
    "FullLazyFromFile": "Yingyun full parse, pixel data left on disk, from file",
    "FullFromMemory": "Yingyun full parse from memory (zero copy)",
    "ScanFromMemory": "Yingyun element header scan from memory",
    "WritePart10": "Yingyun write Part 10 (explicit VR LE)",
}
for m, label in names.items():
    if m in rows:
        s, alloc = rows[m]
        print(f"| {label} | {files / s:,.0f} | {mb / s:,.0f} | {alloc / files:,.0f} B |")
print(f"| pydicom dcmread(stop_before_pixels=True) | {files / py['header_only_s']:,.0f} | {mb / py['header_only_s']:,.0f} | |")
print(f"| pydicom dcmread (full) | {files / py['full_s']:,.0f} | {mb / py['full_s']:,.0f} | |")
print(f"| dcmdump -M, all files in one process | {files / dcm['one_process_s']:,.0f} | {mb / dcm['one_process_s']:,.0f} | |")
print(f"| dcmdump -M, one process per file | {files / dcm['process_per_file_s']:,.0f} | {mb / dcm['process_per_file_s']:,.0f} | |")
h = rows["HeaderOnlyFromFile"][0]
f = rows["FullFromFile"][0]
print()
print(f"header only: {py['header_only_s'] / h:.1f}x pydicom; {dcm['one_process_s'] / h:.1f}x dcmdump (one process), {dcm['process_per_file_s'] / h:.1f}x dcmdump (process per file)")
print(f"full parse:  {py['full_s'] / f:.1f}x pydicom")
PY
