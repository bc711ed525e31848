# Shell helpers the server benchmarks share (sourced, not run): a free loopback UDP port, and
# waiting until a server on it answers an Accounting-Request from radclient.

free_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_ready() { # port
  for _ in $(seq 1 100); do
    if printf 'Acct-Session-Id = "probe"\nAcct-Status-Type = Start\nNAS-IP-Address = 127.0.0.1\n' |
      radclient -q -r 1 -t 1 "127.0.0.1:$1" acct testing123 >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "bench: server on port $1 did not answer" >&2
  return 1
}

# The machine's state for a figure's caption: the load average (`uptime`) and the latency of
# fdatasync in DIR (N 4 KiB appends each followed by fdatasync, median and p99), the cost every
# acknowledged commit pays. Prints one line.
machine_state() { # dir [n]
  python3 - "$1" "${2:-200}" <<'PY'
import os, statistics, sys, time
path = os.path.join(sys.argv[1], ".fsync-probe")
n = int(sys.argv[2])
samples = []
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
try:
    block = b"\0" * 4096
    for _ in range(n):
        t = time.perf_counter()
        os.write(fd, block)
        os.fdatasync(fd)
        samples.append((time.perf_counter() - t) * 1000)
finally:
    os.close(fd)
    os.unlink(path)
samples.sort()
load = open("/proc/loadavg").read().split()[:3]
print(f"load average {' '.join(load)} (2 cores); fdatasync of 4 KiB: median "
      f"{statistics.median(samples):.2f} ms, p99 {samples[int(0.99 * (n - 1))]:.2f} ms ({n} samples)")
PY
}

# Resident memory of a process in kB (0 when it is gone).
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# One sample of a Prometheus metric (no labels) from an acctlab /metrics listener, or "-".
metric() { # web_port name
  curl -s --max-time 5 "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n {print $2; f=1} END {if (!f) print "-"}'
}

# A throwaway PostgreSQL 15 cluster for a benchmark, in DIR/pg: initdb as nobody when run as root
# (PostgreSQL refuses to run as root), trust authentication for the user acctlab, a Unix socket in
# DIR/pg and no TCP listener, synchronous_commit on. Extra arguments are more server settings
# ("-c name=value ..."). pg_cluster_uri DIR DATABASE names a database of it; pg_cluster_stop DIR
# (safe to call when none was started) stops it at once and removes it.
pg_bin=/usr/lib/postgresql/15/bin
pg_as() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u nobody -- "$@"); else "$@"; fi; }
pg_cluster_available() { [ -x "$pg_bin/initdb" ]; }
pg_cluster_start() { # dir [-c name=value ...]
  local dir=$1
  shift
  mkdir -p "$dir/pg"
  if [ "$(id -u)" = 0 ]; then chmod o+x "$dir"; chown nobody "$dir/pg"; fi
  pg_as "$pg_bin/initdb" -D "$dir/pg/data" -A trust -U acctlab --no-sync -E UTF8 >"$dir/pg/initdb.log" 2>&1
  pg_as "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgres.log" -w \
    -o "-k $dir/pg -c listen_addresses='' -c synchronous_commit=on $*" start >/dev/null
}
pg_cluster_uri() { # dir database
  echo "postgresql://acctlab@/$2?host=$1/pg"
}
pg_cluster_stop() { # dir
  if [ -f "$1/pg/data/postmaster.pid" ]; then
    pg_as "$pg_bin/pg_ctl" -D "$1/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$1/pg"
}

# The head of the radiusd.conf of a benchmark's private FreeRADIUS 3.2 (bench/freeradius/
# freeradius-lab.sh, bench/radsec/tls-vs-udp.sh): paths under DIR (DIR/log, DIR/run and
# DIR/radacct: the caller makes them, and DIR/mods-config when it uses modules' configuration),
# room for a window of requests in flight, Status-Server answered, and a thread pool of up to
# THREADS for accounting; the log goes to DESTINATION (stdout or files, DIR/log/radius.log). The
# caller appends its clients, modules and server. (tests/support/freeradius-conf.sh is the tests'
# own, smaller skeleton.)
freeradius_bench_head() { # dir threads destination
  local dir=$1 threads=$2 destination=$3
  cat <<CONF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = $dir/log
raddbdir = $dir
radacctdir = $dir/radacct
name = freeradius
confdir = \${raddbdir}
modconfdir = \${confdir}/mods-config
run_dir = $dir/run
db_dir = $dir
libdir = /usr/lib/freeradius
pidfile = \${run_dir}/\${name}.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1048576
hostname_lookups = no
log {
  destination = $destination
  colourise = no
  file = \${logdir}/radius.log
  auth = no
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = yes
}
thread pool {
  start_servers = 4
  max_servers = $threads
  min_spare_servers = 3
  max_spare_servers = 10
  max_requests_per_server = 0
  auto_limit_acct = no
}
CONF
}
