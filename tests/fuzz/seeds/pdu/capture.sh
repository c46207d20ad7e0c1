#!/usr/bin/env bash
# Records the seeds dcmtk-*.pdu in this folder: DCMTK's echoscu, storescu, findscu, getscu and movescu talking to
# DCMTK's dcmqrscp (AE title YINGYUN, as the PDU fuzz target's acceptor), each through record.py, which keeps
# what the requestor sent (NAME.pdu: the fuzz target's input) and what dcmqrscp answered (NAME-answer.pdu:
# A-ASSOCIATE-AC/RJ and responses, for the decoders). Needs the Debian packages dcmtk and python3-pydicom (for
# two small files to store). Everything runs on 127.0.0.1 on free ports, in a temporary folder.
#   tests/fuzz/seeds/pdu/capture.sh      re-record the seeds (the committed ones were made so)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export TCP_NODELAY=1
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "capture.sh: nothing listens on port $1" >&2; return 1
}

files=/usr/lib/python3/dist-packages/pydicom/data/test_files
scp_port=$(free_port); move_port=$(free_port)
mkdir -p "$tmp/db"
cat >"$tmp/dcmqrscp.cfg" <<CFG
NetworkTCPPort  = $scp_port
MaxPDUSize      = 16384
MaxAssociations = 4
HostTable BEGIN
movedest = (MOVEDEST, 127.0.0.1, $move_port)
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
YINGYUN $tmp/db RW (100, 64mb) ANY
AETable END
CFG
dcmqrscp -c "$tmp/dcmqrscp.cfg" >"$tmp/dcmqrscp.log" 2>&1 &
pids+=($!)
wait_port "$scp_port"

# through NAME TOOL ARGS...: runs TOOL against the recorder, which relays to dcmqrscp; the arguments PEER and
# PORT stand for the recorder's address.
through() {
  local name=$1; shift
  local port; port=$(free_port)
  local args=()
  for a in "$@"; do case "$a" in PEER) args+=(127.0.0.1) ;; PORT) args+=("$port") ;; *) args+=("$a") ;; esac; done
  /usr/bin/python3 "$here/record.py" "$port" "$scp_port" "$tmp/$name" >"$tmp/$name.log" &
  local recorder=$!
  # The recorder relays one connection only: wait for its word rather than probe the port.
  for _ in $(seq 100); do grep -q listening "$tmp/$name.log" && break; sleep 0.1; done
  if ! timeout 60 "${args[@]}" >>"$tmp/$name.log" 2>&1; then
    echo "capture.sh: $name: $1 failed (expected for a rejection):" >&2; tail -3 "$tmp/$name.log" >&2
  fi
  # A tool that never connected leaves the recorder waiting: connect once so that it ends.
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || true
  wait "$recorder"
  echo "capture.sh: $name: $(stat -c %s "$tmp/$name.pdu") bytes sent, $(stat -c %s "$tmp/$name-answer.pdu") answered"
}

through echo echoscu -aet ECHOSCU -aec YINGYUN PEER PORT
through echo-wrong-called-ae echoscu -aet ECHOSCU -aec SOMEONE PEER PORT
through store storescu -aet STORESCU -aec YINGYUN PEER PORT "$files/SC_rgb_small_odd.dcm" "$files/rtdose_1frame.dcm"
through store-rle storescu -aet STORESCU -aec YINGYUN --propose-rle PEER PORT "$files/SC_rgb_rle.dcm"
through find findscu -aet FINDSCU -aec YINGYUN -S PEER PORT -k QueryRetrieveLevel=STUDY -k PatientName= -k StudyInstanceUID= -k ModalitiesInStudy=
through find-patient findscu -aet FINDSCU -aec YINGYUN -P PEER PORT -k QueryRetrieveLevel=PATIENT -k PatientID= -k PatientName=
study=$(dcmdump +P StudyInstanceUID "$files/SC_rgb_small_odd.dcm" | sed -n 's/.*\[\(.*\)\].*/\1/p' | head -1)
through get getscu -aet GETSCU -aec YINGYUN -S -od "$tmp" PEER PORT -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$study"
through move movescu -aet MOVEDEST -aec YINGYUN -aem MOVEDEST --port "$move_port" -S -od "$tmp" PEER PORT -k QueryRetrieveLevel=STUDY -k "StudyInstanceUID=$study"

for f in "$tmp"/*.pdu; do cp "$f" "$here/dcmtk-$(basename "$f")"; done
echo "capture.sh: $(ls "$here"/dcmtk-*.pdu | wc -l) seeds in $here"
