# shellcheck shell=bash
# The private network namespace of a capture script (tests/captures/make-*-capture.sh), sourced:
#
#   lab_start PREFIX   # namespace PREFIX-PID with lo up, work directory $work, array pids
#   lab_add_namespace NAME  # one more namespace (lo up), removed with the first
#
# Background processes the script starts go into pids; on any exit they are stopped (SIGTERM, and
# SIGCONT for one the script stopped, then SIGKILL after 5 s), the namespace is removed and $work
# too, unless the caller's keep=1. The exit status is kept. Needs skip() from the caller.

lab_cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true # one stopped (SIGSTOP) takes the signal now
  done
  for pid in "${pids[@]}"; do
    timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
  done
  for name in "$ns" "${lab_namespaces[@]}"; do
    ip netns del "$name" 2>/dev/null || true
  done
  if ((${keep:-0})); then
    echo "kept $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}

lab_start() { # PREFIX
  ns="$1-$$"
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  pids=()
  lab_namespaces=()
  trap lab_cleanup EXIT
  trap 'exit 130' INT TERM
  ip netns add "$ns" || skip "cannot create a network namespace"
  ip -n "$ns" link set lo up
}

# Foreground only: a function run with & is a subshell, and its PID is not the program's.
# Background processes use `ip netns exec "$ns"` directly, which becomes the program.
in_ns() { ip netns exec "$ns" "$@"; }

lab_add_namespace() { # NAME
  ip netns add "$1" || skip "cannot create a network namespace"
  lab_namespaces+=("$1")
  ip -n "$1" link set lo up
}
