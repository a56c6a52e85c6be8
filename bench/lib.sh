# Shared pieces of Cairn's benchmark scripts (bench/run, bench/responses), sourced after `set -euo pipefail`:
# tracked processes and their cleanup, servers started on a kernel-picked port, a seeded SQLite store, a throwaway
# PostgreSQL server, and wrk runs that append one line per scenario to a table.
#
# The sourcing script sets: root (repository root), out (its build and store folder), and before calling measure:
# lua (the wrk script), data (the seeder's sample files), results (raw output folder), table (the results table),
# warmup, duration and connections.

me=bench/${0##*/}

say() { printf '[%s %(%H:%M:%S)T] %s\n' "$me" -1 "$*" >&2; }

command -v wrk >/dev/null || { echo "$me: wrk is missing (apt-get install wrk)" >&2; exit 2; }
command -v curl >/dev/null || { echo "$me: curl is missing" >&2; exit 2; }

# ---- processes: every one started here is tracked by PID and stopped on exit, whatever happens --------------
pids=()
pg_dir=
pg_bin=
pg_hugepages_before=
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  if [[ -n $pg_dir ]]; then
    as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
  if [[ -n $pg_hugepages_before ]]; then echo "$pg_hugepages_before" >/proc/sys/vm/nr_hugepages 2>/dev/null || true; fi
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start LOG CMD...: starts a server that logs "Now listening on: URL" (port 0: the kernel picks a free port).
# Sets server_pid and server_url.
start() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  server_url=
  for _ in $(seq "${START_WAIT:-600}"); do
    server_url=$(grep -o 'Now listening on: http://127\.0\.0\.1:[0-9]*' "$log" | head -1 | sed 's/Now listening on: //') || true
    if [[ -n $server_url ]] && curl -sf --max-time 2 "$server_url/health" >/dev/null; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; echo "$me: $1 exited at start" >&2; exit 1; }
    sleep 0.1
  done
  echo "$me: $1 did not start within $((${START_WAIT:-600} / 10)) s" >&2; exit 1
}

# stop PID: SIGTERM, wait up to 30 s for a clean exit (Cairn commits queued writes), then SIGKILL.
stop() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
reset_peak() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }
# VmHWM counts file pages the server maps (SQLite's mmap, once per read connection), so the anonymous part (heap,
# stacks: what the process itself allocates) is sampled too, every 100 ms, and its peak reported beside it.
sample_anon() { # PID FILE: runs until killed
  while kill -0 "$1" 2>/dev/null; do kb "$1" RssAnon; sleep 0.1; done >"$2"
}
peak() { sort -n "$1" | tail -1; }

# publish NAME PROJECT: a Release build of PROJECT in $out/NAME.
publish() {
  rm -rf "${out:?}/$1"
  dotnet publish "$2" -c Release -o "$out/$1" --nologo -v q -clp:ErrorsOnly >&2
}

# ---- a seeded SQLite store -------------------------------------------------------------------------------------
# seed_completions DB COUNT DATA: Cairn's schema, COUNT stored completions from bench/Seed (sample files in DATA),
# then Cairn once more so that its own migrations fill what they derive from completions (the dashboard's previews,
# search words and rollup). Needs $out/cairn and $out/seed. Sets seed_seconds and fill_seconds.
seed_completions() {
  local db=$1 count=$2 data=$3
  say "creating the schema: Cairn once on $db"
  start "$results/cairn-schema.log" "$out/cairn/Cairn" --urls http://127.0.0.1:0 --db "$db"
  stop "$server_pid"
  say "seeding $count stored completions"
  local started=$SECONDS
  "$out/seed/Seed" --db "$db" --count "$count" --out "$data"
  seed_seconds=$((SECONDS - started))
  say "Cairn once more on the seeded store: its migration 3 fills the dashboard's previews, search words and rollup"
  started=$SECONDS
  START_WAIT=12000 start "$results/cairn-fill.log" "$out/cairn/Cairn" --urls http://127.0.0.1:0 --db "$db" --Storage:RetentionDays=0
  stop "$server_pid"
  fill_seconds=$((SECONDS - started))
}

# warm_store DB: the seeder writes without fsync; gigabytes of dirty pages written back during the scenarios would
# compete with them (a first full run without this step measured reads 4-5x slower than later runs on the same
# store). Flush now, then read the file once so every scenario starts with the store in the page cache: warm-cache
# figures. Sets flush_seconds and db_mb.
warm_store() {
  say "flushing the store to disk and reading it into the page cache"
  local started=$SECONDS
  sync "$1"
  cat "$1" >/dev/null
  flush_seconds=$((SECONDS - started))
  db_mb=$(( $(stat -c %s "$1") / 1048576 ))
}

# ---- PostgreSQL: a throwaway server ----------------------------------------------------------------------------
# pg_start: when Debian's server binaries are installed, a server in a temporary folder (unix socket only, as the
# postgres user when run as root) with an empty database cairn; stopped and removed on exit. Sets pg_bin, pg_dir,
# pg_cs, pg_version and pg_huge (on when its shared buffers are in huge pages); when it cannot run, pg_bin is empty
# and pg_note says why. (Not for an `if`: set -e holds here.)
pg_start() {
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [[ -z $pg_bin || ! -x $pg_bin/initdb ]]; then
    pg_note="not run: PostgreSQL's server binaries are not installed (apt-get install postgresql)"
  elif [[ $(id -u) == 0 ]] && ! id postgres >/dev/null 2>&1; then
    pg_note="not run: running as root and there is no postgres user to run the server as"
  else
    pg_dir=$(mktemp -d /tmp/cairn-bench-pg-XXXXXX)
    if [[ $(id -u) == 0 ]]; then chown postgres "$pg_dir"; fi
    pg_version=$("$pg_bin/postgres" --version | awk '{ print $3 }')
    pg_huge_pages
    say "starting PostgreSQL $pg_version in $pg_dir (unix socket; huge pages $pg_huge)"
    as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U cairn --auth=trust -E UTF8 --locale=C >"$results/pg-initdb.log" 2>&1
    as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 120 \
      -o "-k $pg_dir -c listen_addresses='' -c shared_buffers=1GB -c max_connections=200 -c huge_pages=$pg_huge" start >/dev/null
    psql -h "$pg_dir" -U cairn -d postgres -qc "CREATE DATABASE cairn"
    pg_cs="Host=$pg_dir;Username=cairn;Database=cairn"
    return 0
  fi
  say "PostgreSQL scenarios skipped: $pg_note"
  pg_bin=
}

# pg_huge_pages: the server's 1 GB of shared buffers in 2 MiB huge pages, as PostgreSQL's documentation advises for
# large shared_buffers. In 4 KiB pages every server process faults in each page of the buffers it touches on its own;
# on this paravirtualized machine that was most of a list's cost (perf: page faults under heap_page_prune_opt; a
# `metadata[user]` list took 3.5-4.5 ms the first time a connection met its buffers and 0.5 ms after). Run as root, the
# pages are reserved here (vm.nr_hugepages) and given back on exit. Sets pg_huge to on, or off when they cannot be had.
pg_huge_pages() {
  local need=560 free total
  pg_huge=off
  free=$(awk '$1 == "HugePages_Free:" { print $2 }' /proc/meminfo)
  total=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
  if (( ${free:-0} < need )) && [[ $(id -u) == 0 && -w /proc/sys/vm/nr_hugepages ]]; then
    pg_hugepages_before=$total
    echo $(( total + need - ${free:-0} )) >/proc/sys/vm/nr_hugepages 2>/dev/null || true
    free=$(awk '$1 == "HugePages_Free:" { print $2 }' /proc/meminfo)
  fi
  if (( ${free:-0} >= need )); then pg_huge=on; fi
}

# pg_warm: reads the server's files into the page cache. Where the kernel pages out memory left idle (see
# damon_note), much of the copy has left the cache by the time the PostgreSQL scenarios start, after the SQLite ones,
# and lists would wait for the disk; warmed, they are warm-cache figures, as SQLite's are.
pg_warm() {
  say "reading PostgreSQL's files into the page cache"
  find "$pg_dir/data/base" -type f -exec cat {} + >/dev/null
}

# damon_note: a sentence for the report when the kernel's DAMON pages out memory left idle (a cloud guest's proactive
# reclaim): file pages not touched for the scheme's minimum age leave the page cache, so a store idle that long is
# read from the disk again. Empty when no such scheme runs.
damon_note() {
  local admin=/sys/kernel/mm/damon/admin/kdamonds k ctx scheme aggr min_age quota
  [[ -d $admin ]] || return 0
  for k in "$admin"/[0-9]*; do
    [[ $(cat "$k/state" 2>/dev/null) == on ]] || continue
    for ctx in "$k"/contexts/[0-9]*; do
      for scheme in "$ctx"/schemes/[0-9]*; do
        [[ $(cat "$scheme/action" 2>/dev/null) == pageout ]] || continue
        aggr=$(cat "$ctx/monitoring_attrs/intervals/aggr_us" 2>/dev/null || echo 0)
        min_age=$(cat "$scheme/access_pattern/age/min" 2>/dev/null || echo 0)
        quota=$(cat "$scheme/quotas/bytes" 2>/dev/null || echo 0)
        echo "The kernel's DAMON pages out memory idle for $(( aggr * min_age / 1000000 )) s or more (up to $(( quota / 1048576 )) MB a second), so a file not read for that long leaves the page cache."
        return 0
      done
    done
  done
}

# pg_copy DB: the SQLite store DB copied into the throwaway server by `cairn migrate` (binary COPY through Npgsql;
# it ends with VACUUM (ANALYZE), as a store that has been running a while has been vacuumed and analyzed by
# autovacuum), then a CHECKPOINT, so the copy's dirty pages are not written back mid-run. Sets pg_seed_seconds (the
# migrate alone) and pg_mb.
pg_copy() {
  say "copying the seeded store into PostgreSQL (cairn migrate)"
  local started=$SECONDS
  "$out/cairn/Cairn" migrate --from "$1" --to "$pg_cs" 2>"$results/pg-migrate.log"
  tail -n 1 "$results/pg-migrate.log" >&2
  pg_seed_seconds=$((SECONDS - started))
  psql -h "$pg_dir" -U cairn -d cairn -qc "CHECKPOINT"
  pg_mb=$(psql -h "$pg_dir" -U cairn -d cairn -tAc "SELECT pg_database_size('cairn') / 1048576")
}

# pg_pin CPUS: moves the throwaway server, the postmaster and every process it has started, onto CPUS (taskset's
# list syntax, e.g. 0 or 0-1); the connections it starts later inherit them. (A connection that ends meanwhile
# needs no moving.)
pg_pin() {
  local pm pid
  pm=$(head -1 "$pg_dir/data/postmaster.pid")
  taskset -pc "$1" "$pm" >/dev/null
  for pid in $(ps -o pid= --ppid "$pm"); do taskset -pc "$1" "$pid" >/dev/null 2>&1 || true; done
}

# ---- scenarios -------------------------------------------------------------------------------------------------
# measure KEY URL MODE [BODY_FILE]: warm-up, reset the server's peak RSS, then the measured run. Appends
# "KEY requests duration_us rps p50 p90 p99 max socket_errors non_2xx peak_rss_kb peak_anon_kb cpu_ms raw_requests
# raw_p50 raw_p90 raw_p99 raw_max" to the table (cpu_ms: the server's CPU time, user and system, during the measured
# run). The latencies are wrk's, which it corrects for coordinated omission (see WRK_RAW in bench/scripts/cairn.lua);
# at one connection the raw_ fields are each request's own latency, uncorrected ("-" with more connections).
# MEASURE_CONNECTIONS overrides the connections, MEASURE_WARMUP the warm-up (0: none).
measure() {
  local key=$1 url=$2 mode=$3 body=${4:-} connections=${MEASURE_CONNECTIONS:-$connections} warmup=${MEASURE_WARMUP:-$warmup}
  say "scenario $key: $mode, ${warmup} s warm-up + ${duration} s, -t1 -c$connections${WRK_RATE:+ at $WRK_RATE requests/s}"
  if (( warmup > 0 )); then
    WRK_OUT=/dev/null wrk -t1 -c"$connections" -d"${warmup}s" --timeout 5s -s "$lua" "$url" -- "$mode" "$data" $body >/dev/null
  fi
  reset_peak "$server_pid"
  sample_anon "$server_pid" "$results/$key.anon" &
  local sampler=$!
  pids+=("$sampler")
  local cpu; cpu=$(cpu_ticks "$server_pid")
  local raw=
  if (( connections == 1 )); then raw=$results/$key.raw; fi
  WRK_RAW=$raw WRK_OUT=$results/$key.txt wrk -t1 -c"$connections" -d"${duration}s" --timeout 5s -s "$lua" "$url" -- "$mode" "$data" $body \
    >"$results/$key.wrk"
  cpu=$(( ($(cpu_ticks "$server_pid") - cpu) * 1000 / $(getconf CLK_TCK) ))
  local hwm; hwm=$(kb "$server_pid" VmHWM)
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  local anon; anon=$(peak "$results/$key.anon")
  echo "$key $(cat "$results/$key.txt") $hwm ${anon:-0} $cpu $(if [[ -n $raw ]]; then cat "$raw"; else echo - - - - -; fi)" >>"$table"
}
# cpu_ticks PID: the process's user and system time so far, in clock ticks (/proc/PID/stat after its name).
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# ---- the report ------------------------------------------------------------------------------------------------
row() { awk -v k="$1" '$1 == k' "$table"; }
# median: the median of the numbers on stdin, one a line (of an even count, the lower middle).
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%s", v[int((NR + 1) / 2)] }'; }
# Rounds: a scenario measured several times has the keys KEY-1, KEY-2, ...
rounds_of() { awk -v k="$1" 'substr($1, 1, length(k) + 1) == k "-" && substr($1, length(k) + 2) ~ /^[0-9]+$/' "$table"; }
med() { rounds_of "$1" | awk -v i="$2" '{ print $i }' | median; } # KEY FIELD: the median over the rounds
each() { rounds_of "$1" | awk '{ printf "%s%.0f", (NR > 1 ? " / " : ""), $4 }'; } # KEY: each round's requests/s
failed() { rounds_of "$1" | awk '{ e += $9 + $10; n += $2 } END { if (e) printf " (%d of %d failed)", e, n }'; }
field() { row "$1" | awk -v i="$2" '{ print $i }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
per_request() { awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.0f", c * 1000 / n }'; } # CPU_MS REQUESTS -> µs per request
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
verdict() { if "$@"; then echo "met"; else echo "**not met**"; fi; }
good() { local k=$1; (( $(field "$k" 9) + $(field "$k" 10) == 0 )); }
machine_note() {
  echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) memory,"
  echo "Linux $(uname -r), $(dotnet --version | sed 's/^/.NET SDK /'); the load generator runs on the same machine, so it takes one of the cores."
}
