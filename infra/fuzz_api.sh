#!/usr/bin/env bash
# Fuzzes the local API against its contract, shared/api/openapi.json, with schemathesis (`st`, from .tools/venv):
# starts `hersys serve` on a free port with a fresh data dir, mints tokens with `hersys token`, runs `st run` on the
# document the server serves (GET /v1/openapi.json), and fails on any failure of the checks below. infra/test runs it
# as its `api-fuzz` phase; by hand: `infra/fuzz_api.sh` (after `cargo build --workspace`).
#
#   --bin PATH           the hersys binary (default: target/debug/hersys, or $CARGO_TARGET_DIR/debug/hersys)
#   --max-examples N     test cases per operation and phase (default 200: about a minute of requests)
#   --seed N             hypothesis seed (default 20210203): the same seed generates the same data
#
# What it asserts, for every documented operation: no 5xx answer (not_a_server_error); every status is documented
# (status_code_conformance); content type, headers and body match the documented answer (content_type_conformance,
# response_headers_conformance, response_schema_conformance); operations that need a token refuse requests without
# one (ignored_auth); a created report can be read back at once, along the document's links
# (ensure_resource_availability; use_after_free waits for a DELETE to exist). Positive and negative data (`--mode all`), in the four phases:
# the document's examples, boundary coverage, random fuzzing and stateful sequences along the links.
# infra/fuzz_api.py holds the schemathesis hooks (an NDJSON serialiser for entry batches).
# One worker: with two threads, hypothesis's source inspection (ast.parse) occasionally failed inside schemathesis
# on CPython 3.11 ("SystemError: AST constructor recursion depth mismatch"), a tool error, not a finding.
# Reports (JUnit XML, NDJSON events) go to .tools/logs/api-fuzz/; the server's log to .tools/logs/api-fuzz/server.log.
# shellcheck disable=SC2317  # stop_server is called indirectly, by the EXIT trap
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=infra/lib.sh
source infra/lib.sh
cd "$ROOT"

BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/hersys"
MAX_EXAMPLES=200
SEED=20210203
while [[ $# -gt 0 ]]; do
    case "$1" in
        --bin) BIN="$2"; shift 2 ;;
        --max-examples) MAX_EXAMPLES="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        *) die "unknown argument $1 (see the head of infra/fuzz_api.sh)" ;;
    esac
done

ST="$VENV/bin/st"
[[ -x "$ST" ]] || die "schemathesis is not installed in .tools/venv (run infra/test's setup, or infra/emulators start)"
[[ -x "$BIN" ]] || die "no hersys binary at $BIN (cargo build --workspace)"

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance
CHECKS+=,response_schema_conformance,ignored_auth,ensure_resource_availability,use_after_free

# Operations left out of the run, each with the reason. Only for a documented operation whose implementation has
# not landed, or for a real bug in code this script does not own while its fix is pending: name the operation
# (operationId), the finding and who fixes it; remove the entry with the fix.
EXCLUDED_OPERATIONS=(
)

OUT="$LOGS/api-fuzz"
DATA="$(mktemp -d "${TMPDIR:-/tmp}/hersys-fuzz.XXXXXX")"
SERVER_PID=""
mkdir -p "$OUT"
rm -f "$OUT"/*.xml "$OUT"/*.ndjson

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$DATA"
}
trap stop_server EXIT

# The server's first stdout line says where it listens: "hersys listening on http://127.0.0.1:PORT (...); dashboard at
# http://127.0.0.1:PORT/": the first URL on it.
: >"$DATA/stdout"
"$BIN" serve --port 0 --no-schedules --data-dir "$DATA" >"$DATA/stdout" 2>"$OUT/server.log" &
SERVER_PID=$!
BASE=""
for ((i = 0; i < 120; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || { log_tail "$OUT/server.log"; die "hersys serve exited before it listened"; }
    BASE="$(head -n 1 "$DATA/stdout" | grep -o 'http://[^ ]*' | head -n 1 || true)"
    [[ -n "$BASE" ]] && break
    sleep 0.5
done
[[ -n "$BASE" ]] || die "hersys serve did not say where it listens within 60 s"
log "hersys serve at $BASE (data: $DATA)"

token() {
    "$BIN" token --data-dir "$DATA" "$@"
}
excluded=()
for op in "${EXCLUDED_OPERATIONS[@]}"; do excluded+=(--exclude-operation-id "$op"); done

# fuzz NAME TOKEN FILTER...: one schemathesis run with one caller's token.
fuzz() {
    local name="$1" bearer="$2"
    shift 2
    log "-- st run: $name (max $MAX_EXAMPLES examples per operation, seed $SEED)"
    # infra/fuzz_api.py teaches schemathesis to send NDJSON bodies.
    SCHEMATHESIS_HOOKS="$ROOT/infra/fuzz_api.py" "$ST" run "$BASE/v1/openapi.json" \
        --header "Authorization: Bearer $bearer" \
        --checks "$CHECKS" \
        --mode all \
        --phases "${PHASES:-examples,coverage,fuzzing,stateful}" \
        --max-examples "$MAX_EXAMPLES" \
        --seed "$SEED" \
        --generation-database none \
        --workers 1 \
        --request-timeout 10 \
        --no-color \
        --report junit,ndjson \
        --report-junit-path "$OUT/$name.xml" \
        --report-ndjson-path "$OUT/$name.ndjson" \
        "${excluded[@]}" \
        "$@"
}

failed=0
# One run per role, each with the operations that role may call (the first of their `x-roles`), so that every
# operation is fuzzed past its authorisation; operations without a role (health, the document) go with the health
# centre. Only the health centre's operations have links to follow (the stateful phase).
while read -r role ops; do
    case "$role" in
        health_center) bearer="$(token --role health_center --health-center 131016)" ;;
        *) bearer="$(token --role "$role")" ;;
    esac
    include=()
    for op in ${ops//,/ }; do include+=(--include-operation-id "$op"); done
    if [[ "$role" == health_center ]]; then
        fuzz "$role" "$bearer" "${include[@]}" || failed=1
    else
        PHASES=examples,coverage,fuzzing fuzz "$role" "$bearer" "${include[@]}" || failed=1
    fi
done < <(python3 - "$ROOT/shared/api/openapi.json" "${EXCLUDED_OPERATIONS[@]}" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
excluded = set(sys.argv[2:])
by_role = {}
for path in doc["paths"].values():
    for method, op in path.items():
        if not isinstance(op, dict) or "operationId" not in op or op["operationId"] in excluded:
            continue
        role = (op.get("x-roles") or ["health_center"])[0]
        by_role.setdefault(role, []).append(op["operationId"])
for role, ops in sorted(by_role.items()):
    print(role, ",".join(ops))
PY
)
exit "$failed"
