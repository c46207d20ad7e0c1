#!/usr/bin/env bash
# Fuzzes the DICOM reader with AFL++ and SharpFuzz (harness: tests/fuzz/Yingyun.Dicom.Fuzz; what counts as a
# crash is documented in its ReaderTarget.cs).
#   tests/fuzz/run.sh                 fuzz for 300 s
#   tests/fuzz/run.sh --seconds N     fuzz for N s
#   tests/fuzz/run.sh --ci            fuzz for 60 s (test.sh runs this)
# Installs what it needs idempotently (Debian's afl++ and python3-pydicom, the sharpfuzz tool into
# .build/tools), builds the harness in Release and copies it to .build/fuzz/app, instruments the copied
# Yingyun.Dicom.dll, seeds from pydicom's small test files plus built-in ones, runs afl-fuzz, then replays
# every crash and hang. Inputs that still fail are copied to tests/Yingyun.Dicom.Tests/Fuzz/regressions/
# (one per distinct crash, named by SHA-256) for FuzzRegressionTests. Where afl-fuzz cannot run, it falls
# back to the harness's in-process --smoke mode for the same time.
# Ends with exactly one line "fuzz: 1 passed, 0 failed", or "fuzz: 0 passed, 1 failed" and exit status 1.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

seconds=""; ci=0
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) ci=1 ;;
    --seconds) seconds="${2:-}"; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$seconds" ] || { [ "$ci" = 1 ] && seconds=60 || seconds=300; }
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || { echo "run.sh: --seconds needs a positive number" >&2; exit 2; }

work=.build/fuzz
app=$work/app
regressions=tests/Yingyun.Dicom.Tests/Fuzz/regressions
harness=tests/fuzz/Yingyun.Dicom.Fuzz
started=$(date +%s)

say() { echo "fuzz: $*"; }
finish() { # $1 = failed (0/1)
  say "took $(( $(date +%s) - started )) s in all"
  if [ "$1" = 0 ]; then echo "fuzz: 1 passed, 0 failed"; exit 0; fi
  echo "fuzz: 0 passed, 1 failed"; exit 1
}
broken() { say "ERROR: $*"; finish 1; }

mkdir -p "$work"

# ---- system packages (as test.sh: sudo only when not root) -----------------------------------
missing=()
for p in afl++ python3-pydicom; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  say "installing ${missing[*]}"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$work/apt.log" 2>&1 \
    || say "could not install ${missing[*]} (see $work/apt.log)"
fi

# ---- sharpfuzz (a local tool, not a global one) -------------------------------------------------
sharpfuzz=.build/tools/sharpfuzz
if [ ! -x "$sharpfuzz" ]; then
  say "installing SharpFuzz.CommandLine 2.3.0 into .build/tools"
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path .build/tools >"$work/tool.log" 2>&1 || { cat "$work/tool.log"; broken "could not install the sharpfuzz tool"; }
fi

# ---- build, copy, instrument ---------------------------------------------------------------------
say "building the harness (Release)"
dotnet build "$harness/Yingyun.Dicom.Fuzz.csproj" -c Release --nologo -v quiet -clp:ErrorsOnly >"$work/build.log" 2>&1 || { cat "$work/build.log"; broken "the harness does not build"; }
rm -rf "$app"
cp -r "$harness/bin/Release/net10.0" "$app"
# Only the copy is instrumented: bin/ stays the plain build the tests use.
"$sharpfuzz" "$app/Yingyun.Dicom.dll" >"$work/instrument.log" 2>&1 || { cat "$work/instrument.log"; broken "sharpfuzz could not instrument Yingyun.Dicom.dll"; }
run_harness() { dotnet "$app/Yingyun.Dicom.Fuzz.dll" "$@"; }

# ---- seeds: pydicom's small test files (< 64 KiB), named by hash (duplicates collapse), built-in ones, regressions ----
seeds=$work/seeds
rm -rf "$seeds"; mkdir -p "$seeds"
pydicom_data=/usr/lib/python3/dist-packages/pydicom/data
for dir in "$pydicom_data/test_files" "$pydicom_data/charset_files"; do
  [ -d "$dir" ] || continue
  while IFS= read -r -d '' f; do
    if [[ "$f" == *.dcm ]] || [ "$(dd if="$f" bs=1 skip=128 count=4 2>/dev/null)" = DICM ]; then
      cp "$f" "$seeds/$(sha256sum "$f" | cut -c1-16).dcm"
    fi
  done < <(find "$dir" -type f -size -64k -print0)
done
run_harness --write-seeds "$seeds" || broken "the harness could not write its built-in seeds"
# Inputs that once failed reach corners the corpus does not.
find "$regressions" -type f -size -64k ! -name '.*' -exec cp {} "$seeds/" \; 2>/dev/null
say "$(ls "$seeds" | wc -l) seeds in $seeds$([ -d "$pydicom_data" ] || echo " (pydicom's corpus is missing: built-in seeds only)")"

# ---- replaying ---------------------------------------------------------------------------------------
unique=$work/unique
rm -rf "$unique" "$work"/replay-*.log "$work/smoke.log"; mkdir -p "$unique"
# replay NAME DIR: runs every input of DIR in one harness process, which keeps the smallest input per
# distinct crash in $unique. If that process dies (stack overflow, ...) or runs over its limit, replays the
# inputs one by one: one that kills the harness is kept as crash-HASH, one still running after 30 s as
# hang-HASH. Returns 1 if anything failed.
replay() {
  local log=$work/replay-$1.log dir=$2 r f failed=0
  timeout 120 dotnet "$app/Yingyun.Dicom.Fuzz.dll" --replay "$dir" --save-crashes "$unique" >"$log" 2>&1
  r=$?
  [ "$r" -le 1 ] && return "$r"
  say "  replaying $dir in one process failed (exit $r): one by one"
  while IFS= read -r -d '' f; do
    timeout 30 dotnet "$app/Yingyun.Dicom.Fuzz.dll" --replay "$f" --save-crashes "$unique" >>"$log" 2>&1
    r=$?
    if [ "$r" = 124 ] || [ "$r" = 137 ]; then
      cp "$f" "$unique/hang-$(sha256sum "$f" | cut -c1-16).dcm"; failed=1
      say "  hang: $f still runs after 30 s"
    elif [ "$r" -gt 1 ]; then
      cp "$f" "$unique/crash-$(sha256sum "$f" | cut -c1-16).dcm"; failed=1
      say "  $f kills the harness (exit $r)"
    elif [ "$r" = 1 ]; then failed=1
    fi
  done < <(find "$dir" -type f ! -name '.*' -print0 | sort -z)
  return "$failed"
}

# The seeds themselves must pass.
replay seeds "$seeds" || say "some seeds fail already (see $work/replay-seeds.log)"

# ---- afl-fuzz --------------------------------------------------------------------------------------
# Sandboxes and CI containers: no CPU frequency control, core dumps piped elsewhere, cores shared with
# other jobs. The documented switches accept all that without writing to /proc.
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
# The target is `dotnet`, not an instrumented binary; SharpFuzz talks to afl-fuzz itself.
export AFL_SKIP_BIN_CHECK=1
# Seeds that crash were replayed above; calibrate quickly; .NET needs a while to start the fork server.
export AFL_SKIP_CRASHES=1 AFL_FAST_CAL=1 AFL_FORKSRV_INIT_TMOUT=60000 AFL_NO_CRASH_README=1
findings=$work/findings
stats=$findings/default/fuzzer_stats
afl_stat() { sed -n "s/^$1 *: //p" "$stats" 2>/dev/null; }
rm -rf "$findings"
fallback=""
if ! command -v afl-fuzz >/dev/null; then
  fallback="afl-fuzz is not installed"
else
  say "afl-fuzz for $seconds s (log: $work/afl.log)"
  afl-fuzz -i "$seeds" -o "$findings" -V "$seconds" -t 5000 -m none -- dotnet "$app/Yingyun.Dicom.Fuzz.dll" >"$work/afl.log" 2>&1 &
  afl=$!
  shown=""
  while kill -0 "$afl" 2>/dev/null; do
    sleep 2
    # afl-fuzz rewrites fuzzer_stats about once a minute: show each new one.
    t=$(afl_stat run_time)
    if [ -n "$t" ] && [ "$t" != 0 ] && [ "$t" != "$shown" ]; then
      say "  $t s: $(afl_stat execs_done) execs ($(afl_stat execs_per_sec)/s), corpus $(afl_stat corpus_count), edges $(afl_stat edges_found), crashes $(afl_stat saved_crashes), hangs $(afl_stat saved_hangs)"
      shown=$t
    fi
  done
  wait "$afl"; afl_rc=$?
  if [ ! -f "$stats" ] || [ "$(afl_stat execs_done)" = "" ] || [ "$(afl_stat execs_done)" = 0 ]; then
    why=$(grep -a -A2 "PROGRAM ABORT" "$work/afl.log" | sed 's/\x1b\[[0-9;]*m//g' | tr -s ' \n' ' ' | cut -c1-300)
    fallback="afl-fuzz did not run (exit $afl_rc${why:+: $why})"
  fi
fi

if [ -n "$fallback" ]; then
  say "$fallback; falling back to the in-process --smoke mode for $seconds s (no coverage feedback)"
  run_harness --smoke 100000000 --max-seconds "$seconds" --seeds "$seeds" --save-crashes "$unique" >"$work/smoke.log" 2>&1
  rc=$?
  grep -E "^(smoke|CRASH)" "$work/smoke.log" | sed 's/^/fuzz:   /'
  [ "$rc" -le 1 ] || { tail -20 "$work/smoke.log"; broken "the smoke run killed the harness (exit $rc)"; }
else
  say "afl-fuzz: $(afl_stat execs_done) execs in $(afl_stat run_time) s, $(afl_stat execs_per_sec) execs/s; corpus $(afl_stat corpus_count) ($(afl_stat corpus_found) new), edges $(afl_stat edges_found), stability $(afl_stat stability), saved crashes $(afl_stat saved_crashes), hangs $(afl_stat saved_hangs)"
  crashes=$findings/default/crashes
  if compgen -G "$crashes/id:*" >/dev/null; then replay crashes "$crashes"; fi
  # Hangs: each in its own process with a limit; one that finishes was only slow on a busy machine. The
  # first five are enough to show a real hang (each may take the whole limit).
  checked=0
  for f in "$findings"/default/hangs/id:*; do
    [ -e "$f" ] || continue
    if [ "$checked" -ge 5 ]; then say "  hang: $f not replayed (five were)"; continue; fi
    checked=$((checked + 1))
    t0=$(date +%s%N)
    timeout 30 dotnet "$app/Yingyun.Dicom.Fuzz.dll" --replay "$f" --save-crashes "$unique" >>"$work/replay-hangs.log" 2>&1
    r=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    if [ "$r" = 124 ] || [ "$r" = 137 ]; then
      cp "$f" "$unique/hang-$(sha256sum "$f" | cut -c1-16).dcm"
      say "  hang: $f still runs after 30 s"
    else
      say "  hang: $f finished in $ms ms on replay (exit $r): slow under load, not kept"
    fi
  done
fi

# ---- report ------------------------------------------------------------------------------------------
# The seeds, afl-fuzz's crashes and the smoke run were replayed separately, so one bug may have been kept
# more than once: replay the kept crash inputs together (the harness keeps the smallest per distinct crash).
# Hangs, and inputs that kill the harness (then the combined replay dies too), stay as they are.
logs=("$work"/replay-seeds.log "$work"/replay-crashes.log "$work"/replay-hangs.log "$work"/smoke.log)
if compgen -G "$unique/crash-*" >/dev/null; then
  distinct=$work/distinct
  rm -rf "$distinct"; mkdir -p "$distinct"
  timeout 300 dotnet "$app/Yingyun.Dicom.Fuzz.dll" --replay "$unique"/crash-* --save-crashes "$distinct" >"$work/replay-distinct.log" 2>&1
  if [ $? -le 1 ] && compgen -G "$distinct/crash-*" >/dev/null; then
    rm -f "$unique"/crash-*; cp "$distinct"/crash-* "$unique/"
    logs=("$work/replay-distinct.log")
  fi
fi
found=$(find "$unique" -type f | wc -l)
if [ "$found" = 0 ]; then
  say "no crashes, no hangs"
  finish 0
fi
mkdir -p "$regressions"
say "$found failing inputs kept (one per distinct crash, every hang):"
for log in "${logs[@]}"; do
  [ -f "$log" ] && grep -a "^---- " "$log" | sed 's/^---- /fuzz:   /'
done
for f in "$unique"/*; do
  name=$(basename "$f")
  if [ -e "$regressions/$name" ]; then say "  $name is already in $regressions (a known regression fails again)"
  else cp "$f" "$regressions/$name"; say "  added $regressions/$name"; fi
done
say "details: $work/replay-*.log; reproduce with: dotnet $app/Yingyun.Dicom.Fuzz.dll --replay FILE (or --dump FILE)"
finish 1
