#!/usr/bin/env bash
# The Debian package end to end: build it from this build tree (CPack), check its contents (and
# lintian where installed), install it, run the unit's ExecStart line as the acctlab user the way
# systemd would (no systemd runs here as PID 1), send Start/Interim-Update/Stop with FreeRADIUS's
# radclient, check the answers and the stored session, then purge and check nothing is left.
#
# usage: package_test.sh BUILD_DIR SOURCE_DIR VERSION
# Exit 77 (skipped) without root, dpkg-deb or radclient, or when an acctlab package or user
# already exists on this machine (never touch a real installation).
set -uo pipefail

build=$1 source=$2 version=$3
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[[ $(id -u) == 0 ]] || skip "needs root to install a package"
command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
command -v cpack >/dev/null || skip "cpack is not installed"
[[ -x /usr/bin/radclient ]] || skip "radclient is not installed (freeradius-utils)"
if dpkg-query -W -f='${Status}' acctlab 2>/dev/null | grep -q installed; then
  skip "an acctlab package is installed on this machine; not replacing it"
fi
getent passwd acctlab >/dev/null && skip "a user acctlab exists on this machine; not touching it"
getent group acctlab >/dev/null && skip "a group acctlab exists on this machine; not touching it"
for path in /usr/bin/acctlab /etc/acctlab /var/lib/acctlab /usr/share/acctlab; do
  [[ -e $path ]] && skip "$path exists on this machine; not touching it"
done

work=$(mktemp -d /tmp/acctlab-package-XXXXXX)
chmod 755 "$work"
server_pid=
installed=
cleanup() {
  [[ -n $server_pid ]] && kill -KILL "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if [[ -n $installed ]]; then
    dpkg --purge acctlab >/dev/null 2>&1
  fi
  rm -rf "$work"
}
trap cleanup EXIT
started=$SECONDS

# --- build -----------------------------------------------------------------------------------
(cd "$build" && cpack -B "$work/package" >"$work/cpack.log" 2>&1) || {
  cat "$work/cpack.log"
  fail "cpack failed"
}
deb=$work/package/acctlab_${version}_amd64.deb
[[ -f $deb ]] || fail "no $deb (built: $(ls "$work/package"))"
echo "built $(basename "$deb"): $(stat -c %s "$deb") bytes in $((SECONDS - started)) s"

# --- contents --------------------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents"
for want in /usr/bin/acctlab /etc/acctlab/acctlab.conf /etc/acctlab/clients.conf \
  /lib/systemd/system/acctlab.service /usr/share/acctlab/profiles/cisco-ios-ipsec \
  /usr/share/acctlab/scenarios/one-session.scn /usr/share/acctlab/scenarios/lab.cfg \
  /usr/share/acctlab/dictionaries/dictionary /usr/share/doc/acctlab/copyright \
  /usr/share/doc/acctlab/changelog.gz /usr/share/doc/acctlab/server.md; do
  grep -qx "$want" "$work/contents" || fail "the package lacks $want"
done
if grep -v -E '^/$|^/(usr|usr/bin|usr/share|usr/share/doc|etc|lib|lib/systemd|lib/systemd/system)/$|^/usr/bin/acctlab$|^/usr/share/(acctlab|doc/acctlab)/|^/etc/acctlab/|^/lib/systemd/system/acctlab\.service$' \
  "$work/contents"; then
  fail "the package has files outside its places (above)"
fi
grep -q -e "$build" -e "$source" <(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./lib/systemd/system/acctlab.service ./etc/acctlab/acctlab.conf) &&
  fail "the unit or the configuration names the build or source tree"
[[ $(dpkg-deb -f "$deb" Package) == acctlab && $(dpkg-deb -f "$deb" Version) == "$version" &&
  $(dpkg-deb -f "$deb" Architecture) == amd64 ]] || fail "control fields: $(dpkg-deb -f "$deb")"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in adduser libsqlite3-0 libssl3 libc6; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$work/conffiles"
diff <(sort "$work/conffiles") <(printf '/etc/acctlab/acctlab.conf\n/etc/acctlab/clients.conf\n') ||
  fail "conffiles differ (above)"
echo "contents: $(wc -l <"$work/contents") paths, conffiles and Depends as expected"

if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>/dev/null
  cat "$work/lintian.log"
  grep -q '^E: ' "$work/lintian.log" && fail "lintian reports errors"
  echo "lintian: no errors ($(grep -c '^W: ' "$work/lintian.log") warnings)"
else
  echo "lintian: not installed, not run"
fi

# --- install ---------------------------------------------------------------------------------
installed=yes
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || {
  cat "$work/dpkg.log"
  fail "dpkg -i failed"
}
uid=$(id -u acctlab) || fail "postinst made no user acctlab"
((uid < 1000)) || fail "acctlab is not a system user (uid $uid)"
[[ $(stat -c '%U:%G %a' /var/lib/acctlab) == "acctlab:acctlab 750" ]] ||
  fail "/var/lib/acctlab is $(stat -c '%U:%G %a' /var/lib/acctlab)"
[[ $(stat -c '%U:%G %a' /etc/acctlab/clients.conf) == "root:acctlab 640" ]] ||
  fail "clients.conf (secrets) is $(stat -c '%U:%G %a' /etc/acctlab/clients.conf)"
/usr/bin/acctlab --version | grep -q "^acctlab $version (commit " || fail "acctlab --version"

unit=/lib/systemd/system/acctlab.service
for line in Type=exec User=acctlab NoNewPrivileges=yes ProtectSystem=strict \
  ReadWritePaths=/var/lib/acctlab CapabilityBoundingSet= 'ExecReload=/bin/kill -HUP $MAINPID'; do
  grep -qxF "$line" "$unit" || fail "the unit lacks '$line'"
done
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$unit" 2>&1 | grep acctlab && fail "systemd-analyze verify complains"
  echo "systemd-analyze verify: clean"
fi
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
exec_pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
[[ $exec_start == "/usr/bin/acctlab serve --config /etc/acctlab/acctlab.conf" ]] ||
  fail "ExecStart is '$exec_start'"
as_service() { # as systemd would: the unit's user, no new privileges, its working directory
  (cd /var/lib/acctlab && exec setpriv --reuid=acctlab --regid=acctlab --init-groups --no-new-privs \
    --inh-caps=-all --bounding-set=-all -- "$@")
}
# shellcheck disable=SC2086  # the unit's command line is split as systemd splits it (no quotes)
as_service $exec_pre >"$work/check.log" 2>&1 || {
  cat "$work/check.log"
  fail "ExecStartPre (--check-config) fails on the shipped configuration"
}

# Profiles and scenarios come from /usr/share/acctlab: the source tree is hidden from this run.
if unshare -m true 2>/dev/null; then
  unshare -m sh -c "mount -t tmpfs none '$source' && cd '$work' && /usr/bin/acctlab conform \
    --scenario one-session --work-dir '$work/conform'" >"$work/conform.log" 2>&1 || {
    cat "$work/conform.log"
    fail "the installed acctlab cannot run a scenario without the source tree"
  }
  grep -q "PASS one-session" "$work/conform.log" || fail "conform: $(cat "$work/conform.log")"
  echo "conform one-session with the source tree hidden: PASS"
fi

# --- run the service's ExecStart on a private port --------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The subshell execs setpriv, which execs acctlab: $! is the server itself.
# shellcheck disable=SC2086
(cd /var/lib/acctlab && exec setpriv --reuid=acctlab --regid=acctlab --init-groups --no-new-privs \
  --inh-caps=-all --bounding-set=-all -- $exec_start --listen "127.0.0.1:$port" --stats 0) \
  >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on 127.0.0.1:$port" "$work/serve.log" && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.05
done
grep -q "listening on 127.0.0.1:$port" "$work/serve.log" || {
  cat "$work/serve.log"
  fail "the service did not start"
}
send() { # status, then extra attributes; the shipped clients.conf: 127.0.0.1, testing123
  printf 'Acct-Session-Id = "pkg-0001"\nAcct-Status-Type = %s\nUser-Name = "joe@pkg"\nNAS-IP-Address = 192.0.2.9\n%s\n' \
    "$1" "$2" | radclient -x -r 2 -t 3 "127.0.0.1:$port" acct testing123 >"$work/radclient-$1.log" 2>&1 ||
    { cat "$work/radclient-$1.log"; fail "radclient $1: no answer"; }
  grep -q "Received Accounting-Response" "$work/radclient-$1.log" || fail "radclient $1: $(cat "$work/radclient-$1.log")"
}
send Start ''
send Interim-Update $'Acct-Session-Time = 60\nAcct-Input-Octets = 1000\nAcct-Output-Octets = 2000'
send Stop $'Acct-Session-Time = 120\nAcct-Input-Octets = 5000\nAcct-Output-Octets = 7000\nAcct-Terminate-Cause = User-Request'
kill -TERM "$server_pid"
wait "$server_pid"
rc=$?
server_pid=
[[ $rc == 0 ]] || { cat "$work/serve.log"; fail "SIGTERM: exit $rc"; }
echo "Start, Interim-Update, Stop answered; SIGTERM exit 0"

session=$(sqlite3 /var/lib/acctlab/acctlab.db \
  "SELECT state, input_octets, output_octets, session_time, user_name FROM sessions WHERE acct_session_id = 'pkg-0001'")
[[ $session == "closed|5000|7000|120|joe@pkg" ]] || fail "stored session: '$session'"
records=$(sqlite3 /var/lib/acctlab/acctlab.db "SELECT count(*) FROM records WHERE acct_session_id = 'pkg-0001'")
[[ $records == 3 ]] || fail "$records records stored, expected 3"
echo "stored: session $session, $records records"
# The service wrote only its state directory (ProtectSystem=strict would have refused the rest).
stray=$(find /etc /usr /var /tmp /opt /root /home -xdev -user acctlab 2>/dev/null | grep -v '^/var/lib/acctlab')
[[ -z $stray ]] || fail "files owned by acctlab outside /var/lib/acctlab: $stray"

# --- purge -------------------------------------------------------------------------------------
dpkg --purge acctlab >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge failed"; }
installed=
for path in /usr/bin/acctlab /etc/acctlab /var/lib/acctlab /usr/share/acctlab /usr/share/doc/acctlab \
  /lib/systemd/system/acctlab.service; do
  [[ -e $path ]] && fail "$path is left after purge"
done
getent passwd acctlab >/dev/null && fail "user acctlab is left after purge"
getent group acctlab >/dev/null && fail "group acctlab is left after purge"
dpkg-query -W -f='${Status}' acctlab 2>/dev/null | grep -q "installed" && fail "dpkg still lists acctlab"
echo "purged: no file, user or group left"
echo "package test passed in $((SECONDS - started)) s"
