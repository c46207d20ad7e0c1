#!/usr/bin/env bash
# Installs what the tests need (idempotently), builds, and runs every test against real peers:
# DCMTK's tools, Debian's pydicom and its test corpus, Orthanc. Ends with one line "N passed, N failed, N skipped".
#   ./test.sh                 everything
#   ./test.sh --filter EXPR   only tests matching a dotnet test filter (e.g. FullyQualifiedName~Corpus)
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# DCMTK waits on delayed ACKs without it (README of the benchmarks).
export TCP_NODELAY=1

filter=""
if [ "${1:-}" = "--filter" ]; then filter="${2:?--filter needs an expression}"; fi

# ---- system packages ---------------------------------------------------------------------
apt_packages=(dcmtk python3-pydicom python3-numpy orthanc)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "test.sh: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK is needed (no 'dotnet' on PATH)" >&2; exit 1; }

# ---- build -------------------------------------------------------------------------------
dotnet build Yingyun.sln -c Release --nologo -v quiet -clp:ErrorsOnly

# ---- tests -------------------------------------------------------------------------------
results="artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
log="$results/dotnet-test.log"
args=(test Yingyun.sln -c Release --no-build --nologo --results-directory "$results" --logger "trx")
[ -n "$filter" ] && args+=(--filter "$filter")
set +e
dotnet "${args[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# ---- short fuzz runs: the reader, then the upper layer, 30 s each (longer: tests/fuzz/run.sh --seconds N) ----
if [ -z "$filter" ] && [ -x tests/fuzz/run.sh ]; then
  if ! tests/fuzz/run.sh --ci 2>&1 | tee -a "$log"; then status=1; fi
fi

# ---- one summary line over every test project ------------------------------------------------
awk '
  /(Passed|Failed)!  *- *Failed: / {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:")  f += $(i+1) + 0
      if ($i == "Passed:")  p += $(i+1) + 0
      if ($i == "Skipped:") s += $(i+1) + 0
    }
  }
  /^fuzz: [0-9]+ passed, [0-9]+ failed/ { p += $2; f += $4 }
  END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
