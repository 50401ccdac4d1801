#!/usr/bin/env bash
# A federation of three Archipel nodes on this machine, and the example workflow run across it:
#
#   examples/federation.sh [WORK_DIR]
#
# 1. makes a swarm key (the federation's secret) with `archipel swarm-key generate --out`;
# 2. starts alpha, bravo and charlie with `archipel up` on 127.0.0.1 (free ports) in that swarm, each
#    with a data directory of its own and an embedded database;
# 3. connects alpha to the two others and peers them by consent: alpha asks, the other approves (the
#    discovery API, as an administrator calls it with curl);
# 4. on alpha, in a project "demo": `archipel plan`, then `archipel submit --watch` of examples/workflow.cwl
#    with examples/job.yml, its `shout` step placed on bravo (`--place shout=<bravo's cluster id>`), and
#    `archipel runs outputs --download`.
#
# Everything goes to WORK_DIR (default: a new temporary directory): the key, the data directories,
# each node's output (<name>.out) and logs (<name>.log), and the run's outputs (results/). The nodes are
# stopped when the script ends; KEEP_RUNNING=1 leaves them up until Ctrl+C. Needs curl.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The CLI of this checkout (`npx archipel` is the same command).
archipel=(node "$here/../bin/archipel.js")
work=${1:-$(mktemp -d)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
# Every node embedded: its own PGlite database and object store, whatever this shell points at.
unset DATABASE_URL S3_BUCKET ARCHIPEL_CONFIG ARCHIPEL_NODE ARCHIPEL_TOKEN

pids=()
stop_nodes() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_nodes EXIT

fail() {
  echo "federation.sh: $*" >&2
  exit 1
}

# Retries a command until it succeeds: CMD... (up to 60 s).
eventually() {
  for _ in $(seq 1 120); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  fail "gave up waiting for: $*"
}

# start NAME [OPTIONS...]: `archipel up` in the background; sets url_NAME, token_NAME, id_NAME, p2p_NAME.
start() {
  local name=$1
  shift
  "${archipel[@]}" up --name "$name" --data-dir "$work/$name" --http-port 0 --p2p-port 0 \
    --swarm-key "$work/swarm.key" "$@" >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
}
wait_up() {
  local name=$1 pid=$2
  for _ in $(seq 1 240); do
    grep -q 'Press Ctrl+C to stop' "$work/$name.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || fail "$name did not start: see $work/$name.log"
    sleep 0.5
  done
  grep -q 'Press Ctrl+C to stop' "$work/$name.out" || fail "$name did not start within 2 minutes: see $work/$name.log"
  printf -v "url_$name" '%s' "$(sed -n 's|^  API: *\(http://[^ ]*\)/api/v1 .*|\1|p' "$work/$name.out")"
  printf -v "id_$name" '%s' "$(sed -n 's|^  cluster: *||p' "$work/$name.out")"
  printf -v "p2p_$name" '%s' "$(sed -n 's|^  p2p: *||p' "$work/$name.out" | head -n 1)"
  printf -v "token_$name" '%s' "$(cat "$work/$name/admin.token")"
}

# api NAME METHOD ROUTE [JSON]: a call to NAME's API as its administrator; prints the answer.
api() {
  local url_var="url_$1" token_var="token_$1"
  curl -fsS -X "$2" "${!url_var}/api/v1$3" -H "Authorization: Bearer ${!token_var}" \
    ${4:+-H 'Content-Type: application/json' -d "$4"}
}
# peer_state NAME OTHER STATE: NAME sees OTHER in STATE.
peer_state() {
  local other="id_$2"
  api "$1" GET "/discovery/peers/${!other}" | grep -q "\"state\":\"$3\""
}

echo "== working in $work"
"${archipel[@]}" swarm-key generate --out "$work/swarm.key"

echo "== starting alpha, bravo and charlie"
start alpha
start bravo
start charlie
wait_up alpha "${pids[0]}"
wait_up bravo "${pids[1]}"
wait_up charlie "${pids[2]}"
for name in alpha bravo charlie; do
  url="url_$name" id="id_$name"
  echo "  $name  ${!url}  cluster ${!id}"
done

echo "== alpha connects to bravo and charlie, and peers with each by consent"
for other in bravo charlie; do
  other_id="id_$other" other_p2p="p2p_$other"
  # As `archipel up --bootstrap <address>` would; bravo and charlie then learn of each other through alpha.
  api alpha POST /discovery/peers "{\"address\": \"${!other_p2p}\"}" >/dev/null
  api alpha POST "/discovery/peers/${!other_id}/request-peering" >/dev/null
  eventually peer_state "$other" alpha pending-approval
  api "$other" POST "/discovery/peers/$id_alpha/approve" >/dev/null
  eventually peer_state alpha "$other" peered
  echo "  alpha and $other are peered"
done

echo "== running examples/workflow.cwl on alpha, its shout step on bravo"
api alpha POST /projects '{"name": "demo", "description": "examples/federation.sh"}' >/dev/null
export ARCHIPEL_NODE=$url_alpha ARCHIPEL_TOKEN=$token_alpha
cd "$here/.."
"${archipel[@]}" plan examples/workflow.cwl examples/job.yml --project demo --place "shout=$id_bravo"
# Follows the run to its end, one line per step transition, each naming the cluster that runs the step.
"${archipel[@]}" submit examples/workflow.cwl examples/job.yml --project demo --place "shout=$id_bravo" --watch \
  2>"$work/submit.err" | tee "$work/run.txt" || fail "the run did not succeed: $(cat "$work/submit.err")"
run=$(sed -n 's/^submitted run //p' "$work/submit.err")
grep -q "step shout Succeeded on $id_bravo" "$work/run.txt" || fail "step shout did not run on bravo ($id_bravo)"
"${archipel[@]}" runs outputs "$run" --download "$work/results" >/dev/null
echo "== run $run: shout ran on bravo; $work/results/shouted.txt:"
cat "$work/results/shouted.txt"

if [ -n "${KEEP_RUNNING:-}" ]; then
  echo "== the nodes stay up (ARCHIPEL_NODE=$url_alpha ARCHIPEL_TOKEN=$token_alpha); Ctrl+C stops them"
  wait
fi
