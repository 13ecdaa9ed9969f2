#!/usr/bin/env bash
# bench/peers.sh: Boxwire beside its peers, side by side in one run
# (DESIGN §9, issue 17 point 4). Every target there is a ratio against a
# peer measured in the same run, because the machine's speed drifts.
#
#   bench/peers.sh                 # the full run: 3 rounds, about 10–15 minutes
#   ROUNDS=1 WRK_DURATION=2s SUBSCRIBERS=100 EVENTS=20 IDLE_CONNS=500 bench/peers.sh   # a smoke run
#
# It installs the peers once from the Go module proxy (compiling them
# takes a few minutes) into $BOXWIRE_PEERS_DIR (default
# ~/.cache/boxwire-peers): Centrifugo v6.9.1 and PocketBase v0.36.8
# (examples/base). It builds Boxwire, a bare net/http handler
# (bench/barehttp), the independent client (bench/peerbench) and a probe of
# the disk's fdatasync time (bench/fsyncgap), then runs
# every measurement in rounds, each round running every server of a row
# once, one after the other (A B C A B C …), each on a fresh data
# directory and a fresh process. It prints one markdown table: the value
# of each round, their median and the ratio to the row's reference.
#
# Needs: go, wrk (Debian: apt-get install -y wrk), curl, jq, and for the
# PostgreSQL row a server at $BOXWIRE_BENCH_POSTGRES (a database named
# boxwire_peers_* is created and dropped each round; PEERS_POSTGRES=off
# leaves the row out).
#
# Settings (environment):
#   ROUNDS=3  WRK_DURATION=8s  WRK_CONNS=64  WRK_THREADS=2
#   SUBSCRIBERS=1000  RATE=20 (publishes/s)  EVENTS=200 (per run)
#   PUBLISHERS=1 (serial publishers side by side, each at RATE/PUBLISHERS:
#     one cannot offer more than one publish per acknowledgement; above 1,
#     the row of boxwire bench fanout, whose publisher is serial, is left out)
#   IDLE_CONNS=10000  ONLY=append,fanout,idle,startup
#   PEERS_INSTALL=1 (0: never install; fail if a peer is missing)
#   PEERS_KEEP=0 (1: keep the work directory: logs and raw outputs)
#   BOXWIRE_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
set -euo pipefail

ROUNDS=${ROUNDS:-3}
WRK_DURATION=${WRK_DURATION:-8s}
WRK_CONNS=${WRK_CONNS:-64}
WRK_THREADS=${WRK_THREADS:-2}
SUBSCRIBERS=${SUBSCRIBERS:-1000}
RATE=${RATE:-20}
EVENTS=${EVENTS:-200}
PUBLISHERS=${PUBLISHERS:-1}
IDLE_CONNS=${IDLE_CONNS:-10000}
ONLY=${ONLY:-append,fanout,idle,startup}
PEERS_INSTALL=${PEERS_INSTALL:-1}
PEERS_POSTGRES=${PEERS_POSTGRES:-on}
PEERS_KEEP=${PEERS_KEEP:-0}
PG_ADMIN=${BOXWIRE_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
PEERS_DIR=${BOXWIRE_PEERS_DIR:-$HOME/.cache/boxwire-peers}

CENTRIFUGO_MODULE=github.com/centrifugal/centrifugo/v6
CENTRIFUGO_VERSION=v6.9.1
POCKETBASE_MODULE=github.com/pocketbase/pocketbase/examples/base
POCKETBASE_VERSION=v0.36.8
CENTRIFUGO=$PEERS_DIR/centrifugo-$CENTRIFUGO_VERSION/centrifugo
POCKETBASE=$PEERS_DIR/pocketbase-$POCKETBASE_VERSION/base

EMAIL=bench@example.com
PASSWORD=bench-password
API_KEY=bench-api-key

die() { echo "peers.sh: $*" >&2; exit 1; }
log() { echo "peers.sh: $*" >&2; }
want() { [[ ",$ONLY," == *",$1,"* ]]; }

for tool in go wrk curl jq; do
	command -v "$tool" >/dev/null || die "$tool is missing (wrk: apt-get install -y wrk)"
done
REPO=$(cd "$(dirname "$0")/.." && pwd)

# --- the peers, installed once ----------------------------------------------

install_peer() { # binary module version
	local bin=$1 module=$2 version=$3
	[[ -x $bin ]] && return 0
	[[ $PEERS_INSTALL == 1 ]] || die "peer missing: $bin ($module@$version); run with PEERS_INSTALL=1 to install it"
	log "installing $module@$version into $(dirname "$bin") (compiles it: a few minutes, once)"
	mkdir -p "$(dirname "$bin")"
	GOBIN=$(dirname "$bin") GOFLAGS=-buildvcs=false go install "$module@$version" >&2 ||
		die "could not install $module@$version from the Go module proxy"
	[[ -x $bin ]] || die "peer missing after install: $bin"
}
if want fanout || want idle || want startup; then
	install_peer "$CENTRIFUGO" "$CENTRIFUGO_MODULE" "$CENTRIFUGO_VERSION"
fi
if want append || want fanout || want startup; then
	install_peer "$POCKETBASE" "$POCKETBASE_MODULE" "$POCKETBASE_VERSION"
fi

# --- work directory, processes, clean-up -------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/boxwire-peers.XXXXXX")
PIDS=()
PG_DBS=()
cleanup() {
	local pid db
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for db in "${PG_DBS[@]}"; do
		psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	done
	if [[ $PEERS_KEEP == 1 ]]; then
		log "kept $WORK (servers' logs, wrk and peerbench outputs, results.tsv)"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
need_files=$((IDLE_CONNS * 2 + 1000))
if want idle && [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt $need_files ]]; then
	die "the open-file limit is $(ulimit -n), below the $need_files that IDLE_CONNS=$IDLE_CONNS needs"
fi

log "building boxwire, bench/barehttp, bench/peerbench and bench/fsyncgap into $WORK/bin"
(cd "$REPO" && go build -o "$WORK/bin/" ./cmd/boxwire ./bench/barehttp ./bench/peerbench ./bench/fsyncgap) || die "build failed"
BOXWIRE=$WORK/bin/boxwire
BARE=$WORK/bin/barehttp
PEERBENCH=$WORK/bin/peerbench

if want append && [[ $PEERS_POSTGRES == on ]]; then
	psql "$PG_ADMIN" -qc 'SELECT 1' >/dev/null 2>&1 ||
		die "PostgreSQL is not reachable at $PG_ADMIN (set BOXWIRE_BENCH_POSTGRES, or PEERS_POSTGRES=off)"
fi

# --- servers -------------------------------------------------------------------

SERVER_PID=
PORT=
# start NAME HEALTH_PATH CMD ARGS… : starts a server on $PORT (chosen
# before) and waits until HEALTH_PATH answers 200.
start() {
	local name=$1 health=$2
	shift 2
	"$@" >"$WORK/$name.log" 2>&1 &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	local i
	for ((i = 0; i < 300; i++)); do
		curl -fso /dev/null "http://127.0.0.1:$PORT$health" && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/$name.log" >&2; die "$name exited at start"; }
		sleep 0.1
	done
	tail -20 "$WORK/$name.log" >&2
	die "$name not ready on port $PORT after 30 s"
}
stop() {
	[[ -n $SERVER_PID ]] || return 0
	kill "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}
new_port() { PORT=$("$PEERBENCH" port); }

# boxwire_up [postgres]: a fresh Boxwire with the bench user.
boxwire_up() {
	local data dbflag=()
	data=$(mktemp -d "$WORK/boxwire.XXXXXX")
	if [[ ${1:-} == postgres ]]; then
		local db="boxwire_peers_$$_$RANDOM"
		psql "$PG_ADMIN" -qc "CREATE DATABASE $db" >/dev/null || die "cannot create database $db"
		PG_DBS+=("$db")
		local base=${PG_ADMIN%%\?*} query=
		[[ $PG_ADMIN == *\?* ]] && query="?${PG_ADMIN#*\?}"
		dbflag=(--database "${base%/*}/$db$query")
	fi
	"$BOXWIRE" migrate --data "$data" "${dbflag[@]}" >/dev/null
	"$BOXWIRE" user add --data "$data" "${dbflag[@]}" --email "$EMAIL" --password "$PASSWORD" --name Bench >/dev/null
	new_port
	start boxwire /healthz "$BOXWIRE" serve --data "$data" "${dbflag[@]}" --addr "127.0.0.1:$PORT" \
		--max-streams-per-identity $((IDLE_CONNS + SUBSCRIBERS + 100)) --log-level warn
}
pocketbase_up() {
	local data
	data=$(mktemp -d "$WORK/pocketbase.XXXXXX")
	"$POCKETBASE" superuser upsert "$EMAIL" "$PASSWORD" --dir "$data" >/dev/null
	new_port
	start pocketbase /api/health "$POCKETBASE" serve --http "127.0.0.1:$PORT" --dir "$data"
}
centrifugo_config() {
	jq -n --argjson port "$PORT" --arg key "$API_KEY" '{
		http_server: {address: "127.0.0.1", port: $port},
		log: {level: "error"},
		health: {enabled: true},
		client: {insecure: true},
		http_api: {key: $key}
	}' >"$WORK/centrifugo.json"
}
centrifugo_up() {
	new_port
	centrifugo_config
	start centrifugo /health "$CENTRIFUGO" --config "$WORK/centrifugo.json"
}
bare_up() {
	new_port
	start barehttp /healthz "$BARE" --addr "127.0.0.1:$PORT"
}

# --- results -----------------------------------------------------------------

RESULTS=$WORK/results.tsv
: >"$RESULTS"
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; } # key round value

# --- durable POST under wrk --------------------------------------------------

BODY=$(jq -cn --arg e "$(head -c 150 /dev/urandom | base64 -w0)" --arg k "$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d =)" \
	'{type: "msg.text", content: {encrypted: $e, public_key: $k}}')

# wrk_post KEY ROUND AUTHORIZATION PATH: wrk -tT -cC -dD on POST PATH.
wrk_post() {
	local key=$1 round=$2 auth=$3 path=$4 out
	jq -rn --arg body "$BODY" --arg auth "$auth" '
		"wrk.method = \"POST\"",
		"wrk.body = \($body | tojson)",
		"wrk.headers[\"Content-Type\"] = \"application/json\"",
		(if $auth != "" then "wrk.headers[\"Authorization\"] = \($auth | tojson)" else empty end)' >"$WORK/post.lua"
	out=$(wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DURATION" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT$path")
	echo "$out" >"$WORK/wrk-$key-$round.txt"
	if grep -q 'Non-2xx or 3xx responses' <<<"$out"; then
		echo "$out" >&2
		die "$key: wrk saw non-2xx answers"
	fi
	if grep -q 'Socket errors' <<<"$out"; then
		log "$key, round $round: wrk $(grep 'Socket errors' <<<"$out" | xargs) (counted by wrk, not in requests/s)"
	fi
	record "post_rps:$key" "$round" "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
	local pct
	for pct in 50 99; do
		record "post_p$pct:$key" "$round" "$(awk -v p="$pct%" '$1 == p {
			v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
			if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
			printf "%.2f", v }' <<<"$out")"
	done
}

run_append() {
	local round=$1 p
	log "round $round: POST under wrk: bare net/http"
	bare_up; wrk_post bare "$round" "" /boxes/bench/events; stop
	log "round $round: POST under wrk: Boxwire on SQLite"
	boxwire_up
	p=$("$PEERBENCH" prepare -target boxwire -url "http://127.0.0.1:$PORT" -email "$EMAIL" -password "$PASSWORD")
	wrk_post boxwire_sqlite "$round" "$(jq -r .authorization <<<"$p")" "$(jq -r .path <<<"$p")"; stop
	if [[ $PEERS_POSTGRES == on ]]; then
		log "round $round: POST under wrk: Boxwire on PostgreSQL"
		boxwire_up postgres
		p=$("$PEERBENCH" prepare -target boxwire -url "http://127.0.0.1:$PORT" -email "$EMAIL" -password "$PASSWORD")
		wrk_post boxwire_pg "$round" "$(jq -r .authorization <<<"$p")" "$(jq -r .path <<<"$p")"; stop
	fi
	log "round $round: POST under wrk: PocketBase record create"
	pocketbase_up
	p=$("$PEERBENCH" prepare -target pocketbase -url "http://127.0.0.1:$PORT" -email "$EMAIL" -password "$PASSWORD")
	wrk_post pocketbase "$round" "$(jq -r .authorization <<<"$p")" "$(jq -r .path <<<"$p")"; stop
}

# --- fan-out -------------------------------------------------------------------

# fanout KEY ROUND TARGET FLAGS…: the independent client against $PORT.
fanout() {
	local key=$1 round=$2 target=$3 out
	shift 3
	out=$("$PEERBENCH" fanout -target "$target" -url "http://127.0.0.1:$PORT" -subscribers "$SUBSCRIBERS" \
		-rate "$RATE" -events "$EVENTS" -publishers "$PUBLISHERS" "$@") || die "$key: peerbench fanout failed"
	echo "$out" >"$WORK/fanout-$key-$round.json"
	[[ $(jq .missing <<<"$out") == 0 && $(jq .duplicates <<<"$out") == 0 ]] || die "$key: deliveries missing or doubled: $out"
	record "fan_p50:$key" "$round" "$(jq .p50_ms <<<"$out")"
	record "fan_p99:$key" "$round" "$(jq .p99_ms <<<"$out")"
	record "fan_ack_p99:$key" "$round" "$(jq .ack_p99_ms <<<"$out")"
	record "fan_rate:$key" "$round" "$(jq .publishes_per_second <<<"$out")"
}

run_fanout() {
	local round=$1 out interval_ms
	log "round $round: fan-out, WebSocket: Boxwire"
	boxwire_up; fanout boxwire_ws "$round" boxwire-ws -email "$EMAIL" -password "$PASSWORD"; stop
	log "round $round: fan-out, WebSocket: Centrifugo"
	centrifugo_up; fanout centrifugo_ws "$round" centrifugo-ws -api-key "$API_KEY"; stop
	if [[ $PUBLISHERS == 1 ]]; then
		log "round $round: fan-out, WebSocket: Boxwire, measured by its own boxwire bench fanout"
		boxwire_up
		interval_ms=$(awk -v r="$RATE" 'BEGIN { printf "%d", 1000 / r }')
		out=$("$BOXWIRE" bench fanout --server "http://127.0.0.1:$PORT" --email "$EMAIL" --password "$PASSWORD" \
			--subscribers "$SUBSCRIBERS" --events "$EVENTS" --interval "${interval_ms}ms" --json) || die "boxwire bench fanout failed"
		stop
		echo "$out" >"$WORK/fanout-repo-$round.json"
		record "fan_p50:boxwire_ws_repo" "$round" "$(jq .p50_ms <<<"$out")"
		record "fan_p99:boxwire_ws_repo" "$round" "$(jq .p99_ms <<<"$out")"
		record "fan_ack_p99:boxwire_ws_repo" "$round" "$(jq .post_p99_ms <<<"$out")"
	fi
	log "round $round: fan-out, SSE: Boxwire"
	boxwire_up; fanout boxwire_sse "$round" boxwire-sse -email "$EMAIL" -password "$PASSWORD"; stop
	log "round $round: fan-out, SSE: PocketBase realtime"
	pocketbase_up
	fanout pocketbase_sse "$round" pocketbase-sse -email "$EMAIL" -password "$PASSWORD"; stop
}

# --- idle WebSockets -----------------------------------------------------------

run_idle() {
	local round=$1 out
	log "round $round: $IDLE_CONNS idle WebSockets: Boxwire"
	boxwire_up
	out=$("$PEERBENCH" idle -target boxwire-ws -url "http://127.0.0.1:$PORT" -email "$EMAIL" -password "$PASSWORD" \
		-conns "$IDLE_CONNS" -pid "$SERVER_PID") || die "peerbench idle (Boxwire) failed"
	stop
	record "idle_kib:boxwire" "$round" "$(jq .kib_per_conn <<<"$out")"
	log "round $round: $IDLE_CONNS idle WebSockets: Centrifugo"
	centrifugo_up
	out=$("$PEERBENCH" idle -target centrifugo-ws -url "http://127.0.0.1:$PORT" -api-key "$API_KEY" \
		-conns "$IDLE_CONNS" -pid "$SERVER_PID") || die "peerbench idle (Centrifugo) failed"
	stop
	record "idle_kib:centrifugo" "$round" "$(jq .kib_per_conn <<<"$out")"
}

# --- start-up and idle RSS -----------------------------------------------------

startup() { # KEY ROUND HEALTH_PATH CMD…
	local key=$1 round=$2 health=$3 out
	shift 3
	out=$("$PEERBENCH" startup -url "http://127.0.0.1:$PORT$health" -log "$WORK/startup-$key.log" -- "$@") ||
		die "$key: peerbench startup failed (see $WORK/startup-$key.log)"
	record "start_ms:$key" "$round" "$(jq .startup_ms <<<"$out")"
	record "rss_mib:$key" "$round" "$(jq .idle_rss_mib <<<"$out")"
}

run_startup() {
	local round=$1 data
	log "round $round: start-up and idle RSS"
	new_port; startup bare "$round" /healthz "$BARE" --addr "127.0.0.1:$PORT"
	new_port; data=$(mktemp -d "$WORK/boxwire.XXXXXX")
	startup boxwire "$round" /healthz "$BOXWIRE" serve --data "$data" --addr "127.0.0.1:$PORT" --log-level warn
	new_port; centrifugo_config
	startup centrifugo "$round" /health "$CENTRIFUGO" --config "$WORK/centrifugo.json"
	new_port; data=$(mktemp -d "$WORK/pocketbase.XXXXXX")
	startup pocketbase "$round" /api/health "$POCKETBASE" serve --http "127.0.0.1:$PORT" --dir "$data"
}

# --- the rounds ----------------------------------------------------------------

started=$(date -u +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# The disk under the data directories: every durable write waits for one
# fdatasync, whose time on a virtual disk depends on how long the disk
# was idle before it (a lone publish finds it idle; appends under wrk do
# not). Both figures go in the table's heading.
log "the disk: fdatasync back to back and after 50 ms idle (bench/fsyncgap)"
disk=$("$WORK/bin/fsyncgap" -dir "$WORK" -pauses 0,50ms -n 40) || die "bench/fsyncgap failed"
disk_back=$(awk '$1 == "pause" && $2 == "0s" { print $4 }' <<<"$disk")
disk_idle=$(awk '$1 == "pause" && $2 == "50ms" { print $4 }' <<<"$disk")
for ((round = 1; round <= ROUNDS; round++)); do
	if want append; then run_append "$round"; fi
	if want fanout; then run_fanout "$round"; fi
	if want idle; then run_idle "$round"; fi
	if want startup; then run_startup "$round"; fi
done
elapsed=$(($(date -u +%s) - started))

# --- the table -----------------------------------------------------------------

# FMT: about 3 significant figures, never an exponent.
FMT='function fmt(v) { return v >= 100 ? sprintf("%.0f", v) : v >= 10 ? sprintf("%.1f", v) : sprintf("%.2f", v) }'
# values KEY: the rounds' values, "a / b / c"; median KEY: their median.
values() { awk -F'\t' -v k="$1" "$FMT"' $1 == k { printf "%s%s", (n++ ? " / " : ""), fmt($3) }' "$RESULTS"; }
median() {
	awk -F'\t' -v k="$1" '$1 == k { print $3 }' "$RESULTS" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) exit; m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.6f", m }'
}
# ratio A B: median(A) / median(B), "0.42×".
ratio() {
	local a b
	a=$(median "$1"); b=$(median "$2")
	[[ -n $a && -n $b ]] || return 0
	awk -v a="$a" -v b="$b" 'BEGIN { if (b != 0) printf "%.2f×", a / b }'
}
row() { # MEASUREMENT SERVER KEY UNIT RATIO_TEXT
	local v
	v=$(values "$3")
	[[ -n $v ]] || return 0
	printf '| %s | %s | %s | %s %s | %s |\n' "$1" "$2" "$v" "$(awk -v m="$(median "$3")" "$FMT"' BEGIN { print fmt(m) }')" "$4" "$5"
}

cat <<EOF

## bench/peers.sh, $(date -u +%Y-%m-%d) on $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)

$ROUNDS round(s), $((elapsed / 60)) min $((elapsed % 60)) s, load average $load_before before; wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION; fan-out: $SUBSCRIBERS subscribers, $EVENTS publishes at $RATE/s offered by $PUBLISHERS publisher(s), each publish waiting for its acknowledgement; idle: $IDLE_CONNS WebSockets. Boxwire $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo ?), Centrifugo $CENTRIFUGO_VERSION (memory engine), PocketBase $POCKETBASE_VERSION. The disk (bench/fsyncgap, p50 of 40): fdatasync of 20 KiB $disk_back ms back to back, $disk_idle ms after 50 ms idle.

| measurement | server | rounds | median | ratio |
| --- | --- | --- | --- | --- |
EOF
M="durable POST /boxes/{id}/events, requests/s"
row "$M" "bare net/http (201, nothing stored)" post_rps:bare "/s" "1 (reference)"
row "$M" "Boxwire, SQLite" post_rps:boxwire_sqlite "/s" "$(ratio post_rps:boxwire_sqlite post_rps:bare) bare (target ≥ 0.35×)"
row "$M" "Boxwire, PostgreSQL" post_rps:boxwire_pg "/s" "$(ratio post_rps:boxwire_pg post_rps:bare) bare; $(ratio post_rps:boxwire_pg post_rps:boxwire_sqlite) SQLite (target ≥ 0.6×)"
row "$M" "PocketBase record create (SQLite)" post_rps:pocketbase "/s" "$(ratio post_rps:pocketbase post_rps:bare) bare; Boxwire SQLite is $(ratio post_rps:boxwire_sqlite post_rps:pocketbase) PocketBase"
for p in 50 99; do
	M="durable POST, p$p"
	row "$M" "bare net/http" "post_p$p:bare" ms "1 (reference)"
	row "$M" "Boxwire, SQLite" "post_p$p:boxwire_sqlite" ms "$(ratio "post_p$p:boxwire_sqlite" "post_p$p:bare") bare$([[ $p == 99 ]] && echo " (target p99 ≤ 25 ms)")"
	row "$M" "Boxwire, PostgreSQL" "post_p$p:boxwire_pg" ms "$(ratio "post_p$p:boxwire_pg" "post_p$p:bare") bare"
	row "$M" "PocketBase" "post_p$p:pocketbase" ms "$(ratio "post_p$p:pocketbase" "post_p$p:bare") bare"
done
for p in 50 99; do
	M="fan-out to $SUBSCRIBERS, publish→receive p$p"
	row "$M" "Centrifugo, WebSocket (peerbench)" "fan_p$p:centrifugo_ws" ms "1 (reference)"
	row "$M" "Boxwire, WebSocket (peerbench)" "fan_p$p:boxwire_ws" ms "$(ratio "fan_p$p:boxwire_ws" "fan_p$p:centrifugo_ws") Centrifugo$([[ $p == 99 ]] && echo " (target ≤ 1×)")"
	row "$M" "Boxwire, WebSocket (boxwire bench fanout)" "fan_p$p:boxwire_ws_repo" ms "$(ratio "fan_p$p:boxwire_ws_repo" "fan_p$p:boxwire_ws") peerbench on Boxwire"
	row "$M" "PocketBase, SSE (peerbench)" "fan_p$p:pocketbase_sse" ms "1 (reference)"
	row "$M" "Boxwire, SSE (peerbench)" "fan_p$p:boxwire_sse" ms "$(ratio "fan_p$p:boxwire_sse" "fan_p$p:pocketbase_sse") PocketBase"
done
M="fan-out, publish acknowledged, p99"
row "$M" "Centrifugo (HTTP API, memory)" fan_ack_p99:centrifugo_ws ms "1 (reference)"
row "$M" "Boxwire (durable POST)" fan_ack_p99:boxwire_ws ms "$(ratio fan_ack_p99:boxwire_ws fan_ack_p99:centrifugo_ws) Centrifugo"
row "$M" "PocketBase (record create)" fan_ack_p99:pocketbase_sse ms "$(ratio fan_ack_p99:pocketbase_sse fan_ack_p99:centrifugo_ws) Centrifugo"
M="fan-out, publishes/s achieved (of $RATE offered)"
row "$M" "Centrifugo, WebSocket" fan_rate:centrifugo_ws /s "1 (reference)"
row "$M" "Boxwire, WebSocket" fan_rate:boxwire_ws /s "$(ratio fan_rate:boxwire_ws fan_rate:centrifugo_ws) Centrifugo"
row "$M" "PocketBase, SSE" fan_rate:pocketbase_sse /s "1 (reference)"
row "$M" "Boxwire, SSE" fan_rate:boxwire_sse /s "$(ratio fan_rate:boxwire_sse fan_rate:pocketbase_sse) PocketBase"
M="server RSS per idle WebSocket ($IDLE_CONNS open)"
row "$M" "Centrifugo" idle_kib:centrifugo KiB "1 (reference)"
row "$M" "Boxwire" idle_kib:boxwire KiB "$(ratio idle_kib:boxwire idle_kib:centrifugo) Centrifugo (target ≤ 10 KiB)"
for m in start_ms:"start-up, exec to first 200":ms rss_mib:"idle RSS after start-up":MiB; do
	IFS=: read -r k M u <<<"$m"
	row "$M" "bare net/http" "$k:bare" "$u" "1 (reference)"
	row "$M" "Boxwire (empty SQLite)" "$k:boxwire" "$u" "$(ratio "$k:boxwire" "$k:bare") bare$([[ $k == start_ms ]] && echo " (target ≤ 200 ms)" || echo " (target ≤ 30 MB)")"
	row "$M" "Centrifugo" "$k:centrifugo" "$u" "$(ratio "$k:centrifugo" "$k:bare") bare"
	row "$M" "PocketBase (empty SQLite)" "$k:pocketbase" "$u" "$(ratio "$k:pocketbase" "$k:bare") bare"
done
