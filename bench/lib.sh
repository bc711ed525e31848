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
