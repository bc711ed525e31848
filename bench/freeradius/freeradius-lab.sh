#!/usr/bin/env bash
# Starts Debian's FreeRADIUS 3.2 with a private configuration written from scratch, listening for
# accounting on 127.0.0.1:PORT, the way its users set it up for this job:
#   detail  - the accounting section writes only the detail file (no fsync)
#   sql     - the accounting section writes the radacct table through rlm_sql + sqlite
#             (Debian's own queries.conf and schema.sql)
#   postgresql - the same through rlm_sql_postgresql (freeradius-postgresql: its queries.conf;
#             the caller loads its schema.sql) into the database of FR_PG_CONNINFO (libpq's
#             "host=/socket/dir dbname=radius user=..."), with Debian's acct_unique policy for
#             acctuniqueid and a connection pool sized to the thread pool (FR_PG_POOL, 32)
# Usage: freeradius-lab.sh detail|sql|postgresql PORT DIR [SECRET]   (runs in the foreground; -X
# for debug with FREERADIUS_DEBUG=1). Never touches /etc/freeradius or the system daemon.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
mode=$1 port=$2 dir=$3 secret=${4:-testing123}
case "$mode" in detail | sql | postgresql) ;; *) echo "freeradius-lab: mode is detail, sql or postgresql" >&2; exit 2 ;; esac
stock=/etc/freeradius/3.0
[ -d "$stock" ] || { echo "freeradius-lab: $stock missing (apt-get install freeradius)" >&2; exit 2; }
mkdir -p "$dir"/{log,run,radacct,mods-config/sql/main/sqlite,mods-config/sql/main/postgresql}
dir=$(cd "$dir" && pwd)
cp "$stock/mods-config/sql/main/sqlite/queries.conf" "$dir/mods-config/sql/main/sqlite/"
cp "$stock/mods-config/sql/main/postgresql/queries.conf" "$dir/mods-config/sql/main/postgresql/"
preacct=''
policy=''
threads=32
echo '$INCLUDE /usr/share/freeradius/dictionary' >"$dir/dictionary"

if [ "$mode" = sql ]; then
  rm -f "$dir/radacct.db"
  sqlite3 "$dir/radacct.db" <"$stock/mods-config/sql/main/sqlite/schema.sql"
  # The schema's default journal; FreeRADIUS users rarely change it.
  accounting='sql'
  sql_module=$(cat <<SQL
  sql {
    dialect = "sqlite"
    driver = "rlm_sql_sqlite"
    sqlite {
      filename = "$dir/radacct.db"
      busy_timeout = 200
    }
    radius_db = "radius"
    acct_table1 = "radacct"
    acct_table2 = "radacct"
    postauth_table = "radpostauth"
    authcheck_table = "radcheck"
    groupcheck_table = "radgroupcheck"
    authreply_table = "radreply"
    groupreply_table = "radgroupreply"
    usergroup_table = "radusergroup"
    delete_stale_sessions = yes
    # Debian's mods-available/sql pool defaults (start/min/max follow the thread pool).
    pool {
      start = 4
      min = 3
      max = 32
      spare = 10
      uses = 0
      retry_delay = 30
      lifetime = 0
      idle_timeout = 60
    }
    client_table = "nas"
    group_attribute = "SQL-Group"
    \$INCLUDE \${modconfdir}/sql/main/\${dialect}/queries.conf
  }
SQL
)
elif [ "$mode" = postgresql ]; then
  : "${FR_PG_CONNINFO:?freeradius-lab: postgresql mode needs FR_PG_CONNINFO}"
  pool=${FR_PG_POOL:-32}
  threads=$pool
  accounting='sql'
  # acctuniqueid is UNIQUE in the PostgreSQL schema: Debian's acct_unique policy fills it.
  preacct='acct_unique'
  policy="policy {
\$INCLUDE $stock/policy.d/accounting
}"
  sql_module=$(cat <<SQL
  sql {
    dialect = "postgresql"
    driver = "rlm_sql_postgresql"
    postgresql {
      send_application_name = yes
    }
    radius_db = "$FR_PG_CONNINFO"
    acct_table1 = "radacct"
    acct_table2 = "radacct"
    postauth_table = "radpostauth"
    authcheck_table = "radcheck"
    groupcheck_table = "radgroupcheck"
    authreply_table = "radreply"
    groupreply_table = "radgroupreply"
    usergroup_table = "radusergroup"
    delete_stale_sessions = yes
    # Tuned: one connection per worker thread, all opened at start and kept (no reconnects, no
    # waiting for a connection), so every worker can have a commit in flight.
    pool {
      start = $pool
      min = $pool
      max = $pool
      spare = $pool
      uses = 0
      retry_delay = 1
      lifetime = 0
      idle_timeout = 0
    }
    client_table = "nas"
    group_attribute = "SQL-Group"
    \$INCLUDE \${modconfdir}/sql/main/\${dialect}/queries.conf
  }
SQL
)
else
  sql_module=''
  accounting='detail'
fi

freeradius_bench_head "$dir" "$threads" stdout >"$dir/radiusd.conf"
cat >>"$dir/radiusd.conf" <<CONF
checkrad = /usr/sbin/checkrad
client lab {
  ipaddr = 127.0.0.1
  secret = $secret
  require_message_authenticator = no
}
$policy
modules {
  expr {
  }
  detail {
    filename = \${radacctdir}/%{%{Packet-Src-IP-Address}:-%{Packet-Src-IPv6-Address}}/detail
    escape_filenames = no
    permissions = 0600
    header = "%t"
    locking = no
  }
$sql_module}
server default {
  listen {
    type = acct
    ipaddr = 127.0.0.1
    port = $port
    # The receive buffer acctlab serve asks for too (capped by net.core.rmem_max): with the
    # kernel's default a window of 256 requests sent at once overflows it and FreeRADIUS never
    # sees some of them (its own default config explains recv_buff for this case).
    recv_buff = 8388608
  }
  preacct {
    $preacct
  }
  accounting {
    $accounting
  }
}
CONF

if [ "${FREERADIUS_DEBUG:-0}" = 1 ]; then
  exec freeradius -X -d "$dir"
fi
exec freeradius -f -d "$dir" -l stdout
