# Sourced by the scripts that run a private FreeRADIUS 3.2 (tests/captures/make-*-capture.sh).
#
#   freeradius_skeleton WORK PROXY [MODULES] > WORK/raddb/radiusd.conf
#   freeradius_and_tcpdump_ready WORK
#
# prints the part of a radiusd.conf every such script shares: paths under WORK (raddb, radlog,
# radrun: the caller makes them), a log file, no core dumps, a small thread pool and the one
# module accounting needs (`always ok`), then MODULES (more module sections, e.g. `pap { }`). PROXY is yes or no (proxy_requests). The caller appends
# what makes its server its own: clients, listen sections, home servers and realms.
freeradius_skeleton() {
  local work=$1 proxy=$2 modules=${3:-}
  cat <<CONF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = $work/radlog
raddbdir = $work/raddb
radacctdir = $work/radlog
name = freeradius
confdir = \${raddbdir}
modconfdir = \${confdir}/mods-config
run_dir = $work/radrun
db_dir = \${raddbdir}
libdir = /usr/lib/freeradius
pidfile = \${run_dir}/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
proxy_requests = $proxy
log {
  destination = files
  file = \${logdir}/radius.log
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}
thread pool {
  start_servers = 1
  max_servers = 2
  min_spare_servers = 1
  max_spare_servers = 2
  max_requests_per_server = 0
}
modules {
  always ok {
    rcode = ok
  }
$modules
}
CONF
}

# Waits (at most 10 s) until the FreeRADIUS started with its output in WORK/radiusd.out says
# "Ready to process requests" and the tcpdump logging to WORK/tcpdump.log says "listening on";
# exits 1 with FreeRADIUS's output when it is not ready by then.
freeradius_and_tcpdump_ready() { # WORK
  local work=$1
  for _ in $(seq 50); do
    grep -q "Ready to process requests" "$work/radiusd.out" 2>/dev/null &&
      grep -q "listening on" "$work/tcpdump.log" 2>/dev/null && break
    sleep 0.2
  done
  grep -q "Ready to process requests" "$work/radiusd.out" || {
    cat "$work/radiusd.out" >&2
    echo "FreeRADIUS did not start" >&2
    exit 1
  }
}
