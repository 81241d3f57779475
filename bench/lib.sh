# Sourced by the benchmarks: a local cloud, pgBackRest pointed at it, a throwaway archiving cluster.

# bench_start_cloud WORK [STANZA]: (COUNT_REQUESTS=1: the cloud logs one line per S3 request, see
# bench_requests; BENCH_CLOUD_TLS=0: plain HTTP; BENCH_CLOUD_ROOT=DIR: the cloud of another
# checkout; BENCH_CLOUD_ARGS: more options of `tidemark local-cloud`) starts `tidemark local-cloud --tls` under WORK/cloud, waits until it is ready
# (BENCH_CLOUD_WAIT half-seconds, default 1800, or until its process ends), and writes WORK/tidemark.conf (with a spool the
# postgres user owns) for the node side: a node of STANZA (default main), whose role's rotating keys come from its credentials.uri.
# Sets cloud_pid and conf.
bench_start_cloud() {
  local work=$1 stanza=${2:-main} tls=(--tls)
  [ "${BENCH_CLOUD_TLS:-1}" = 1 ] || tls=()
  local jto=${JAVA_TOOL_OPTIONS:-}
  [ -n "${COUNT_REQUESTS:-}" ] && jto="$jto -Dlogback.configurationFile=$root/bench/s3-requests-logback.xml"
  JAVA_TOOL_OPTIONS=$jto "${BENCH_CLOUD_ROOT:-$root}/bin/tidemark" local-cloud --dir "$work/cloud" "${tls[@]}" --s3-port 0 --api-port 0 --dynamodb-port 0 \
    --credentials-port 0 --stanza "$stanza" --comparison-bucket pgbackrest ${BENCH_CLOUD_ARGS:-} > "$work/cloud.log" 2>&1 &
  cloud_pid=$!
  # 15 minutes by default, while its process lives: on a machine loaded by several builds its
  # start took over a minute, and at load 30 over 5 (the 300 x 16 MB standby bench gave up)
  for _ in $(seq 1 "${BENCH_CLOUD_WAIT:-1800}"); do
    grep -q ready "$work/cloud.log" && break
    kill -0 "$cloud_pid" 2>/dev/null || break
    sleep 0.5
  done
  grep -q ready "$work/cloud.log" || { cat "$work/cloud.log"; echo "bench: the local cloud did not start (log above)" >&2; exit 1; }
  conf="$work/tidemark.conf"
  cp "$work/cloud/tidemark.conf" "$conf"
  mkdir -p "$work/spool"
  echo "spool.dir=$work/spool" >> "$conf"
  chown postgres "$work/spool" "$conf" 2>/dev/null || true
  local ca; ca=$(sed -n 's/^s3.caFile=//p' "$conf")
  chmod 755 "$work/cloud"
  [ -z "$ca" ] || { chmod 644 "$ca"; chmod 755 "$(dirname "$ca")"; }
}

# bench_pgbackrest_s3_repo CONF PATH: the [global] repository lines that point pgBackRest at the
# S3 endpoint of a local cloud's tidemark.conf (path style, its CA), under repository path PATH of
# the bucket `pgbackrest`: the local cloud's comparison bucket (--comparison-bucket), on the same
# endpoint as Tidemark's but outside the stack, as pgBackRest's own bucket would be. The stack's
# bucket policy makes every write under a stanza create-only and refuses deletes, which pgBackRest
# (it rewrites archive.info and backup.info, expire deletes) cannot work with. pgBackRest signs
# with the operator's long-lived key pair (DIR/credentials.properties of the cloud in WORK/cloud),
# the only key the comparison bucket accepts: it reads no credentials endpoint.
bench_pgbackrest_s3_repo() {
  local c=$1 endpoint keys
  keys="$(dirname "$c")/cloud/credentials.properties"
  endpoint=$(sed -n 's/^s3.endpoint=//p' "$c")
  cat <<CONF
repo1-type=s3
repo1-path=$2
repo1-s3-endpoint=127.0.0.1
repo1-storage-port=${endpoint##*:}
repo1-s3-uri-style=path
repo1-s3-bucket=pgbackrest
repo1-s3-region=$(sed -n 's/^s3.region=//p' "$c")
repo1-s3-key=$(sed -n 's/^accessKeyId=//p' "$keys")
repo1-s3-key-secret=$(sed -n 's/^secretAccessKey=//p' "$keys")
repo1-storage-ca-file=$(sed -n 's/^s3.caFile=//p' "$c")
CONF
}

# bench_mark WORK: the current length of the cloud's log, for bench_requests.
bench_mark() { wc -l < "$1/cloud.log"; }

# bench_requests WORK MARK BUCKET [EXCLUDE]: S3 requests to BUCKET the endpoint handled since MARK
# (COUNT_REQUESTS=1), as "total (GET n, PUT n, HEAD n, POST n, DELETE n)"; requests whose URL
# contains EXCLUDE (e.g. /archive/: the WAL archived meanwhile) are left out.
bench_requests() {
  tail -n +"$(( $2 + 1 ))" "$1/cloud.log" | grep -F ' - request: ' | grep -E " /$3([/?]|\$)" \
    | { if [ -n "${4:-}" ]; then grep -vF "$4"; else cat; fi; } \
    | awk '{ for (i = 1; i < NF; i++) if ($i == "request:") { c[$(i + 1)]++; n++; break } }
           END { printf "%d (GET %d, PUT %d, HEAD %d, POST %d, DELETE %d)", n, c["GET"], c["PUT"], c["HEAD"], c["POST"], c["DELETE"] }'
}

# PostgreSQL's binaries (the newest installed, or TIDEMARK_PG_BINDIR), unless the script chose.
: "${bindir:=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}}"

# as_pg COMMAND...: runs COMMAND as postgres when the bench runs as root (initdb and postgres refuse root).
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# bench_workdir NAME: prints a new directory /tmp/tidemark-NAME.XXXXXX that postgres may use.
bench_workdir() {
  local w; w=$(mktemp -d "/tmp/tidemark-$1.XXXXXX")
  chmod 755 "$w"
  [ "$(id -u)" != 0 ] || chown postgres "$w"
  echo "$w"
}

# bench_archiving_cluster WORK PORT ARCHIVE_COMMAND [INITDB_OPTION...]: initdb WORK/data, a server on
# 127.0.0.1:PORT (socket in WORK) that archives with ARCHIVE_COMMAND and keeps up to 8 GB of WAL
# between checkpoints (a burst never waits for one), started with its log in WORK/server.log.
# Defines psql_ SQL (one statement, unaligned output, stops on error) for that server.
bench_archiving_cluster() {
  local w=$1 p=$2 cmd=$3; shift 3
  as_pg "$bindir/initdb" -D "$w/data" "$@" >/dev/null
  cat >> "$w/data/postgresql.conf" <<CONF
port=$p
listen_addresses='127.0.0.1'
unix_socket_directories='$w'
archive_mode=on
archive_command='$cmd'
max_wal_size=8GB
min_wal_size=1GB
checkpoint_timeout=30min
CONF
  as_pg "$bindir/pg_ctl" -D "$w/data" -l "$w/server.log" -w start >/dev/null
  bench_psql_work=$w bench_psql_port=$p
  psql_() { as_pg "$bindir/psql" -X -h "$bench_psql_work" -p "$bench_psql_port" -At -v ON_ERROR_STOP=1 -d postgres -c "$1"; }
}

# bench_tidemark_stanza_create WORK PORT CONF STANZA: `tidemark stanza-create` as postgres for the
# cluster of bench_archiving_cluster.
bench_tidemark_stanza_create() {
  as_pg bash -c "cd $1 && PGHOST=127.0.0.1 PGPORT=$2 PGUSER=postgres PGDATA=$1/data $root/bin/tidemark stanza-create --config $3 --stanza $4" >/dev/null
}

# bench_pgbackrest_conf WORK PORT REPO_AND_OPTION_LINES: a pgBackRest configuration for stanza main
# of the cluster in WORK/data: the given [global] lines, its lock and log under WORK, warnings only.
bench_pgbackrest_conf() {
  cat <<CONF
[global]
$3
lock-path=$1/lock
log-path=$1/log
log-level-console=warn
log-level-file=off
[main]
pg1-path=$1/data
pg1-port=$2
pg1-socket-path=$1
CONF
}

# bench_node_conf CLOUD_CONF STANZA: the lines of CLOUD_CONF (a local cloud's tidemark.conf, which
# names stanza main's node) for a node of STANZA: its node role's rotating keys and its API key
# (the credentials endpoint serves any stanza's), without spool.dir and archive-push.async.
bench_node_conf() {
  local uri apikey
  grep -v '^spool.dir=\|^credentials.uri=\|^api.key=\|^archive-push.async=' "$1"
  uri=$(sed -n 's/^credentials.uri=//p' "$1")
  [ -n "$uri" ] || return 0
  apikey=$(curl -fsS "${uri%/node/*}/api-key/$2" | sed -n 's/.*"value":"\([^"]*\)".*/\1/p')
  printf 'credentials.uri=%s\napi.key=%s\n' "${uri%/*}/$2" "$apikey"
}
