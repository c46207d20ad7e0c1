#!/usr/bin/env bash
# Fuzzes with AFL++ and SharpFuzz, one target after the other (what counts as a crash is documented in each
# target: tests/fuzz/Yingyun.Dicom.Fuzz/ReaderTarget.cs, tests/fuzz/Yingyun.Dimse.Fuzz/PduTarget.cs).
#   tests/fuzz/run.sh                        both targets, 300 s each
#   tests/fuzz/run.sh --target reader|pdu    one target: the DICOM reader, or the upper layer (PDUs, command
#                                            sets, negotiation, a real acceptor)
#   tests/fuzz/run.sh --seconds N            N s of afl-fuzz per target
#   tests/fuzz/run.sh --ci                   30 s per target, about 60 s of fuzzing in all (test.sh runs this)
# Installs what it needs idempotently (Debian's afl++ and python3-pydicom, the sharpfuzz tool into
# .build/tools). Per target: builds the harness in Release and copies it to .build/fuzz/TARGET/app, instruments
# the copied library (Yingyun.Dicom.dll, Yingyun.Dimse.dll), seeds (reader: pydicom's small test files; pdu:
# tests/fuzz/seeds/pdu; both: the harness's built-in seeds and the regression inputs), runs afl-fuzz, then
# replays every crash and hang. Inputs that still fail are copied to the target's regressions folder
# (tests/Yingyun.Dicom.Tests/Fuzz/regressions, tests/Yingyun.Dimse.Tests/Fuzz/regressions; one per distinct
# crash, named by SHA-256) for its FuzzRegressionTests. Where afl-fuzz cannot run, it falls back to the
# harness's in-process --smoke mode for the same time.
# Ends with exactly one line for the whole run, "fuzz: N passed, N failed" (one count per target), and exit
# status 1 if a target failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

seconds=""; ci=0; targets=(reader pdu)
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) ci=1 ;;
    --seconds) seconds="${2:-}"; shift ;;
    --target)
      case "${2:-}" in
        reader|pdu) targets=("$2") ;;
        *) echo "run.sh: --target is reader or pdu" >&2; exit 2 ;;
      esac
      shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$seconds" ] || { [ "$ci" = 1 ] && seconds=30 || seconds=300; }
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || { echo "run.sh: --seconds needs a positive number" >&2; exit 2; }

started=$(date +%s)
passed=0; failed=0
current=""  # the target being fuzzed, for messages
say() { echo "fuzz: ${current:+[$current] }$*"; }
mkdir -p .build/fuzz

# ---- system packages (as test.sh: sudo only when not root) -----------------------------------
missing=()
for p in afl++ python3-pydicom; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  say "installing ${missing[*]}"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >.build/fuzz/apt.log 2>&1 \
    || say "could not install ${missing[*]} (see .build/fuzz/apt.log)"
fi

# ---- sharpfuzz (a local tool, not a global one) -------------------------------------------------
sharpfuzz=.build/tools/sharpfuzz
if [ ! -x "$sharpfuzz" ]; then
  say "installing SharpFuzz.CommandLine 2.3.0 into .build/tools"
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path .build/tools >.build/fuzz/tool.log 2>&1 || cat .build/fuzz/tool.log
fi

# Every harness process (afl-fuzz's child, the replays, the smoke fallback) runs with a bounded heap: an input
# that makes the target allocate without bound fails with OutOfMemoryException, a crash, rather than taking the
# machine with it. The targets' own budgets are far smaller (PduTarget.AllocationBudget); this catches the rest.
export DOTNET_GCHeapHardLimit=0x40000000

# Sandboxes and CI containers: no CPU frequency control, core dumps piped elsewhere, cores shared with
# other jobs. The documented switches accept all that without writing to /proc.
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
# The target is `dotnet`, not an instrumented binary; SharpFuzz talks to afl-fuzz itself.
export AFL_SKIP_BIN_CHECK=1
# Seeds that crash were replayed before; calibrate quickly; .NET needs a while to start the fork server.
export AFL_SKIP_CRASHES=1 AFL_FAST_CAL=1 AFL_FORKSRV_INIT_TMOUT=60000 AFL_NO_CRASH_README=1

# fuzz_target NAME: one whole run for one target; returns 1 if it failed (crashes, hangs, or it could not run).
fuzz_target() {
  local target=$1 harness dll library regressions ext
  case "$target" in
    reader) harness=tests/fuzz/Yingyun.Dicom.Fuzz; dll=Yingyun.Dicom.Fuzz.dll; library=Yingyun.Dicom.dll
            regressions=tests/Yingyun.Dicom.Tests/Fuzz/regressions; ext=.dcm ;;
    pdu)    harness=tests/fuzz/Yingyun.Dimse.Fuzz; dll=Yingyun.Dimse.Fuzz.dll; library=Yingyun.Dimse.dll
            regressions=tests/Yingyun.Dimse.Tests/Fuzz/regressions; ext=.pdu ;;
  esac
  local work=.build/fuzz/$target
  local app=$work/app seeds=$work/seeds unique=$work/unique findings=$work/findings
  local stats=$findings/default/fuzzer_stats t0
  t0=$(date +%s)
  echo "fuzz: ---- $target: $harness, $seconds s"
  current=$target
  mkdir -p "$work"
  broken() { say "ERROR: $*"; return 1; }
  afl_stat() { sed -n "s/^$1 *: //p" "$stats" 2>/dev/null; }
  run_harness() { dotnet "$app/$dll" "$@"; }

  [ -x "$sharpfuzz" ] || { broken "the sharpfuzz tool is not installed (see .build/fuzz/tool.log)"; return 1; }

  # ---- build, copy, instrument -------------------------------------------------------------------
  say "building the harness (Release)"
  dotnet build "$harness/$(basename "$harness").csproj" -c Release --nologo -v quiet -clp:ErrorsOnly >"$work/build.log" 2>&1 \
    || { cat "$work/build.log"; broken "the harness does not build"; return 1; }
  rm -rf "$app"
  cp -r "$harness/bin/Release/net10.0" "$app"
  # Only the copy is instrumented, and only the library under test: bin/ stays the plain build the tests use.
  "$sharpfuzz" "$app/$library" >"$work/instrument.log" 2>&1 \
    || { cat "$work/instrument.log"; broken "sharpfuzz could not instrument $library"; return 1; }

  # ---- seeds, named by hash (duplicates collapse) ------------------------------------------------
  rm -rf "$seeds"; mkdir -p "$seeds"
  local f dir note=""
  if [ "$target" = reader ]; then
    # pydicom's small test files (< 64 KiB).
    local pydicom_data=/usr/lib/python3/dist-packages/pydicom/data
    for dir in "$pydicom_data/test_files" "$pydicom_data/charset_files"; do
      [ -d "$dir" ] || continue
      while IFS= read -r -d '' f; do
        if [[ "$f" == *.dcm ]] || [ "$(dd if="$f" bs=1 skip=128 count=4 2>/dev/null)" = DICM ]; then
          cp "$f" "$seeds/$(sha256sum "$f" | cut -c1-16).dcm"
        fi
      done < <(find "$dir" -type f -size -64k -print0)
    done
    [ -d "$pydicom_data" ] || note=" (pydicom's corpus is missing: built-in seeds only)"
  else
    # Conversations of real peers with a real acceptor, recorded (tests/fuzz/seeds/pdu/README.md).
    find tests/fuzz/seeds/pdu -type f -name "*$ext" -exec cp {} "$seeds/" \; 2>/dev/null
  fi
  run_harness --write-seeds "$seeds" || { broken "the harness could not write its built-in seeds"; return 1; }
  # Inputs that once failed reach corners the corpus does not.
  find "$regressions" -type f -size -64k ! -name '.*' -exec cp {} "$seeds/" \; 2>/dev/null
  say "$(ls "$seeds" | wc -l) seeds in $seeds$note"
  local dictionary=$work/afl.dict dict_args=()
  run_harness --write-dictionary "$dictionary" || { broken "the harness could not write its dictionary"; return 1; }
  [ -s "$dictionary" ] && dict_args=(-x "$dictionary")

  # ---- replaying -----------------------------------------------------------------------------------
  rm -rf "$unique" "$work"/replay-*.log "$work/smoke.log"; mkdir -p "$unique"
  # replay NAME DIR: runs every input of DIR in one harness process, which keeps the smallest input per
  # distinct crash in $unique. If that process dies (stack overflow, ...) or runs over its limit, replays the
  # inputs one by one: one that kills the harness is kept as crash-HASH, one still running after 30 s as
  # hang-HASH. Returns 1 if anything failed.
  replay() {
    local log=$work/replay-$1.log dir=$2 r f failed=0
    timeout 120 dotnet "$app/$dll" --replay "$dir" --save-crashes "$unique" >"$log" 2>&1
    r=$?
    [ "$r" -le 1 ] && return "$r"
    say "  replaying $dir in one process failed (exit $r): one by one"
    while IFS= read -r -d '' f; do
      timeout 30 dotnet "$app/$dll" --replay "$f" --save-crashes "$unique" >>"$log" 2>&1
      r=$?
      if [ "$r" = 124 ] || [ "$r" = 137 ]; then
        cp "$f" "$unique/hang-$(sha256sum "$f" | cut -c1-16)$ext"; failed=1
        say "  hang: $f still runs after 30 s"
      elif [ "$r" -gt 1 ]; then
        cp "$f" "$unique/crash-$(sha256sum "$f" | cut -c1-16)$ext"; failed=1
        say "  $f kills the harness (exit $r)"
      elif [ "$r" = 1 ]; then failed=1
      fi
    done < <(find "$dir" -type f ! -name '.*' -print0 | sort -z)
    return "$failed"
  }

  # The seeds themselves must pass.
  replay seeds "$seeds" || say "some seeds fail already (see $work/replay-seeds.log)"

  # ---- afl-fuzz --------------------------------------------------------------------------------------
  rm -rf "$findings"
  local fallback="" afl afl_rc shown="" t why
  if ! command -v afl-fuzz >/dev/null; then
    fallback="afl-fuzz is not installed"
  else
    say "afl-fuzz for $seconds s (log: $work/afl.log)"
    afl-fuzz -i "$seeds" -o "$findings" "${dict_args[@]}" -V "$seconds" -t 5000 -m none -- dotnet "$app/$dll" >"$work/afl.log" 2>&1 &
    afl=$!
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
    local rc=$?
    grep -E "^(smoke|CRASH)" "$work/smoke.log" | sed "s/^/fuzz: [$target]   /"
    [ "$rc" -le 1 ] || { tail -20 "$work/smoke.log"; broken "the smoke run killed the harness (exit $rc)"; return 1; }
  else
    say "afl-fuzz: $(afl_stat execs_done) execs in $(afl_stat run_time) s, $(afl_stat execs_per_sec) execs/s; corpus $(afl_stat corpus_count) ($(afl_stat corpus_found) new), edges $(afl_stat edges_found), stability $(afl_stat stability), saved crashes $(afl_stat saved_crashes), hangs $(afl_stat saved_hangs)"
    if compgen -G "$findings/default/crashes/id:*" >/dev/null; then replay crashes "$findings/default/crashes"; fi
    # Hangs: each in its own process with a limit; one that finishes was only slow on a busy machine. The
    # first five are enough to show a real hang (each may take the whole limit).
    local checked=0 r ms h0
    for f in "$findings"/default/hangs/id:*; do
      [ -e "$f" ] || continue
      if [ "$checked" -ge 5 ]; then say "  hang: $f not replayed (five were)"; continue; fi
      checked=$((checked + 1))
      h0=$(date +%s%N)
      timeout 30 dotnet "$app/$dll" --replay "$f" --save-crashes "$unique" >>"$work/replay-hangs.log" 2>&1
      r=$?
      ms=$(( ($(date +%s%N) - h0) / 1000000 ))
      if [ "$r" = 124 ] || [ "$r" = 137 ]; then
        cp "$f" "$unique/hang-$(sha256sum "$f" | cut -c1-16)$ext"
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
  local logs=("$work"/replay-seeds.log "$work"/replay-crashes.log "$work"/replay-hangs.log "$work"/smoke.log)
  if compgen -G "$unique/crash-*" >/dev/null; then
    local distinct=$work/distinct
    rm -rf "$distinct"; mkdir -p "$distinct"
    timeout 300 dotnet "$app/$dll" --replay "$unique"/crash-* --save-crashes "$distinct" >"$work/replay-distinct.log" 2>&1
    if [ $? -le 1 ] && compgen -G "$distinct/crash-*" >/dev/null; then
      rm -f "$unique"/crash-*; cp "$distinct"/crash-* "$unique/"
      logs=("$work/replay-distinct.log")
    fi
  fi
  local found
  found=$(find "$unique" -type f | wc -l)
  if [ "$found" = 0 ]; then
    say "no crashes, no hangs ($(( $(date +%s) - t0 )) s)"
    return 0
  fi
  mkdir -p "$regressions"
  say "$found failing inputs kept (one per distinct crash, every hang):"
  local log name
  for log in "${logs[@]}"; do
    [ -f "$log" ] && grep -a "^---- " "$log" | sed "s/^---- /fuzz: [$target]   /"
  done
  for f in "$unique"/*; do
    name=$(basename "$f")
    if [ -e "$regressions/$name" ]; then say "  $name is already in $regressions (a known regression fails again)"
    else cp "$f" "$regressions/$name"; say "  added $regressions/$name"; fi
  done
  say "details: $work/replay-*.log; reproduce with: dotnet $app/$dll --replay FILE (or --dump FILE)"
  return 1
}

for target in "${targets[@]}"; do
  if fuzz_target "$target"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
current=""
say "took $(( $(date +%s) - started )) s in all"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
