# Sourced by the side-by-side benchmarks: a TLS local cloud and pgBackRest pointed at it.

# bench_start_cloud WORK [STANZA]: (COUNT_REQUESTS=1: the cloud logs one line per S3 request, see
# bench_requests) starts `tidemark local-cloud --tls` under WORK/cloud, waits until
# it is ready (BENCH_CLOUD_WAIT half-seconds, default 120: more on a loaded machine), and writes WORK/tidemark.conf (with a spool the postgres user owns) for the node side:
# a node of STANZA (default main), whose role's rotating keys come from its credentials.uri.
# Sets cloud_pid and conf.
bench_start_cloud() {
  local work=$1 stanza=${2:-main}
  local jto=${JAVA_TOOL_OPTIONS:-}
  [ -n "${COUNT_REQUESTS:-}" ] && jto="$jto -Dlogback.configurationFile=$root/bench/s3-requests-logback.xml"
  JAVA_TOOL_OPTIONS=$jto "$root/bin/tidemark" local-cloud --dir "$work/cloud" --tls --s3-port 0 --api-port 0 --dynamodb-port 0 \
    --credentials-port 0 --stanza "$stanza" --comparison-bucket pgbackrest > "$work/cloud.log" 2>&1 &
  cloud_pid=$!
  # BENCH_CLOUD_WAIT half-seconds, 5 minutes by default: on a loaded machine (shared by several builds) its start took over a minute
  for _ in $(seq 1 "${BENCH_CLOUD_WAIT:-600}"); do grep -q ready "$work/cloud.log" && break; sleep 0.5; done
  grep -q ready "$work/cloud.log" || { cat "$work/cloud.log"; exit 1; }
  conf="$work/tidemark.conf"
  cp "$work/cloud/tidemark.conf" "$conf"
  mkdir -p "$work/spool"
  echo "spool.dir=$work/spool" >> "$conf"
  chown postgres "$work/spool" "$conf" 2>/dev/null || true
  local ca; ca=$(sed -n 's/^s3.caFile=//p' "$conf")
  chmod 644 "$ca"; chmod 755 "$(dirname "$ca")" "$work/cloud"
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
