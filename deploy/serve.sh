#!/usr/bin/env bash
# Serve dl-math-lab on every core: N `streamlit run app.py` processes on loopback ports and
# nginx in front of them with sticky sessions (a cookie) and websocket proxying.
#
#   bash deploy/serve.sh                        # one worker per core, http://127.0.0.1:8501
#   bash deploy/serve.sh --workers 2 --port 8501 --host 0.0.0.0   # reachable from the LAN
#   bash deploy/serve.sh --workers 0 --upstream app:8501 --host 0.0.0.0 --port 80
#                                               # proxy only, in front of replicas (compose)
#
# Options:
#   --workers N       Streamlit processes (default: the number of cores)
#   --port P          where nginx listens (default 8501)
#   --host H          the address nginx listens on (default 127.0.0.1, this machine only)
#   --worker-port B   the first worker's port (default P+1); workers use B .. B+N-1
#   --upstream H:P    proxy to a server that is already running (repeatable; with --workers 0)
#   --run-dir DIR     config, pids and logs here (default: a temporary directory, removed on exit)
#   --warm PAGES      before serving, open these pages once at their defaults in every worker,
#                     so their trained results are ready for the first learners: "all" (the
#                     default), "none", or a comma list (cnn,autoencoder). About 15 s on 2 cores.
#
# Every worker must answer /_stcore/health before nginx starts; then the proxy's own
# /_stcore/health is checked. Ctrl-C or SIGTERM stops nginx and every worker; if any of
# them dies, the others are stopped too and the script exits non-zero.
# Needs nginx (Debian: apt-get install -y nginx) and the app's requirements in $PYTHON
# (default: python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"

workers="$(nproc 2>/dev/null || echo 2)"
port=8501
host=127.0.0.1
worker_port=""
run_dir=""
upstreams=()
warm=all

die() { echo "serve.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers="${2:?}"; shift 2 ;;
    --port) port="${2:?}"; shift 2 ;;
    --host) host="${2:?}"; shift 2 ;;
    --worker-port) worker_port="${2:?}"; shift 2 ;;
    --upstream) upstreams+=("${2:?}"); shift 2 ;;
    --run-dir) run_dir="${2:?}"; shift 2 ;;
    --warm) warm="${2:?}"; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[[ "$workers" =~ ^[0-9]+$ ]] || die "--workers must be a number"
[[ "$port" =~ ^[0-9]+$ ]] || die "--port must be a number"
worker_port="${worker_port:-$((port + 1))}"
[[ "$worker_port" =~ ^[0-9]+$ ]] || die "--worker-port must be a number"
[[ "$warm" =~ ^[a-z_]+(,[a-z_]+)*$ ]] || die "--warm must be all, none or a comma list of pages"
if [ "$workers" -eq 0 ] && [ ${#upstreams[@]} -eq 0 ]; then
  die "--workers 0 needs at least one --upstream HOST:PORT"
fi
[ -x "$NGINX" ] || die "nginx not found: apt-get install -y nginx (or set NGINX=/path/to/nginx)"

keep_run_dir=1
if [ -z "$run_dir" ]; then
  run_dir="$(mktemp -d -t dl-math-lab-serve.XXXXXX)"
  keep_run_dir=0
fi
mkdir -p "$run_dir/nginx-tmp"
run_dir="$(cd "$run_dir" && pwd)"
chmod 755 "$run_dir"  # nginx's worker may run as another user when started as root

pids=()
stopping=0
stop_all() {
  [ "$stopping" -eq 1 ] && return
  stopping=1
  trap - INT TERM
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do  # up to 10 s for a clean exit
      alive=0
      for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ "$alive" -eq 0 ] && break
      sleep 0.2
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
  fi
  if [ "$keep_run_dir" -eq 0 ]; then rm -rf "$run_dir"; fi
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

# Wait until URL answers 200 (at most $2 seconds) or a process of ours has died.
wait_healthy() {
  "$PYTHON" - "$1" "$2" <<'EOF'
import sys, time, urllib.request
url, limit = sys.argv[1], float(sys.argv[2])
deadline = time.time() + limit
while time.time() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.3)
sys.exit(1)
EOF
}

# One cookie secret for every worker: a browser that ever moves to another worker (one was
# restarted) keeps a valid XSRF cookie. Per run, never written to disk.
STREAMLIT_SERVER_COOKIE_SECRET="${STREAMLIT_SERVER_COOKIE_SECRET:-$("$PYTHON" -c 'import secrets; print(secrets.token_hex(32))')}"
export STREAMLIT_SERVER_COOKIE_SECRET

# Each worker trains at most cores/workers models at once (one thread each), first come,
# first served (ui/live.py), so the first learners of a class finish first.
if [ "$workers" -gt 0 ] && [ -z "${DLML_TRAINING_SLOTS:-}" ]; then
  cores="$(nproc 2>/dev/null || echo 2)"
  DLML_TRAINING_SLOTS=$(( cores / workers > 0 ? cores / workers : 1 ))
  export DLML_TRAINING_SLOTS
fi

: > "$run_dir/workers"
cd "$ROOT"
for ((i = 0; i < workers; i++)); do
  p=$((worker_port + i))
  "$PYTHON" -m streamlit run app.py \
    --server.headless true --server.address 127.0.0.1 --server.port "$p" \
    --server.fileWatcherType none --browser.gatherUsageStats false \
    > "$run_dir/worker-$p.log" 2>&1 &
  pids+=("$!")
  upstreams+=("127.0.0.1:$p")
  echo "$p $!" >> "$run_dir/workers"
done

for up in "${upstreams[@]}"; do
  if ! wait_healthy "http://$up/_stcore/health" 180; then
    echo "serve.sh: $up did not become healthy in 180 s; its log:" >&2
    tail -n 20 "$run_dir/worker-${up##*:}.log" >&2 2>/dev/null || true
    exit 1
  fi
done

# Train the defaults in every worker at once (one page after another in each), so the first
# learners find them ready. A page that fails to warm is logged; serving goes on.
if [ "$workers" -gt 0 ] && [ "$warm" != "none" ]; then
  warm_args=()
  [ "$warm" != "all" ] && warm_args=(--pages ${warm//,/ })
  t_warm=$SECONDS
  warmers=()
  for up in "${upstreams[@]}"; do
    "$PYTHON" -m tools.warm --url "http://$up" "${warm_args[@]}" > "$run_dir/warm-${up##*:}.log" 2>&1 &
    warmers+=("$!")
  done
  for w in "${warmers[@]}"; do
    wait "$w" || echo "serve.sh: warming a worker failed; see $run_dir/warm-*.log (serving anyway)" >&2
  done
  echo "warmed ${warm} in every worker in $((SECONDS - t_warm)) s"
fi

# Routing (see the template): our own workers by least connections and a cookie naming
# the worker; replicas behind a name (--upstream) by a hash of a random cookie.
servers=""
for up in "${upstreams[@]}"; do servers+="        server $up;\n"; done
if [ "$workers" -gt 0 ]; then
  names="" groups=""
  for up in "${upstreams[@]}"; do
    names+="        \"$up\" w${up##*:};\n"
    groups+="    upstream w${up##*:} { server $up; }\n"
  done
  routing="    map \$cookie_stroute \$backend {\n        default fresh;\n${names}    }\n"
  routing+="    map \$upstream_addr \$new_route { default \$upstream_addr; }\n"
  routing+="    upstream fresh {\n        least_conn;\n${servers}    }\n${groups}"
else
  routing="    map \$cookie_stroute \$route {\n        \"\"      \$request_id;\n        default \$cookie_stroute;\n    }\n"
  routing+="    map \$cookie_stroute \$backend { default fresh; }\n"
  routing+="    map \$route \$new_route { default \$route; }\n"
  routing+="    upstream fresh {\n        hash \$route consistent;\n${servers}    }\n"
fi
awk -v routing="$routing" -v run="$run_dir" -v listen="$host:$port" '
  /@ROUTING@/ { printf "%s", routing; next }
  { gsub("@RUN_DIR@", run); gsub("@LISTEN@", listen); print }
' "$ROOT/deploy/nginx.conf.template" > "$run_dir/nginx.conf"

"$NGINX" -t -q -p "$run_dir" -e "$run_dir/nginx-error.log" -c "$run_dir/nginx.conf" \
  || die "nginx rejected $run_dir/nginx.conf (see $run_dir/nginx-error.log)"
"$NGINX" -p "$run_dir" -e "$run_dir/nginx-error.log" -c "$run_dir/nginx.conf" &
pids+=("$!")
echo "nginx $!" >> "$run_dir/workers"

probe_host="$host"
[ "$probe_host" = "0.0.0.0" ] && probe_host=127.0.0.1
if ! wait_healthy "http://$probe_host:$port/_stcore/health" 30; then
  echo "serve.sh: the proxy on $host:$port does not answer; see $run_dir/nginx-error.log" >&2
  exit 1
fi

echo "serving http://$host:$port/ : nginx -> ${upstreams[*]} (run dir $run_dir)"

# Run until a signal, or until any child exits (then stop the rest).
set +e
wait -n "${pids[@]}"
rc=$?
if [ "$stopping" -eq 0 ]; then
  echo "serve.sh: a process exited (status $rc); stopping the others" >&2
  exit 1
fi
