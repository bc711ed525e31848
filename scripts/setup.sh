#!/usr/bin/env bash
# Installs what acctlab needs from Debian 12's archive. Skips what is present; safe to run twice.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-json1.81-dev libsqlite3-dev sqlite3 libssl-dev
  libcli11-dev catch2 libpcap-dev libpq-dev postgresql-15 freeradius-postgresql
  clang-14 libclang-rt-14-dev clang-format-14
  tshark tcpdump freeradius freeradius-utils freeradius-common radsecproxy bind9-dnsutils
  hostapd wpasupplicant openvpn openvpn-auth-radius
  ocserv openconnect
  chromium chromium-driver iproute2 python3 python3-prometheus-client
  openssl file dpkg-dev
  strongswan-charon strongswan-swanctl strongswan-pki libcharon-extra-plugins
  libpam-radius-auth pamtester
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all ${#packages[@]} packages present"
fi

# A system RADIUS daemon (the freeradius package starts one on 1812/1813) is no obstacle: every
# test and bench uses private ports and configurations and stops only the processes it started.
