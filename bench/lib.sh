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
