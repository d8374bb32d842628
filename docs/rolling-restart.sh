#!/usr/bin/env bash
# Restart the app servers behind nginx one at a time, without a failed request.
#
#   RESTART='systemctl restart kommunen-kg@' \
#   docs/rolling-restart.sh /etc/nginx/kommunen-kg-upstream.conf 10.0.0.11:8080 10.0.0.12:8080
#
# The procedure of docs/scaling.md ("A rolling restart"), step by step; the tests run this very
# script (tests/test_deployment_nginx.py). For each app server in turn:
#
#   1. write the upstream with that server marked `down` and reload nginx: new nginx workers
#      send it nothing more;
#   2. wait until the nginx workers of before the reload have exited: they exit only once the
#      requests they hold are answered, so then no request is on its way to that server;
#   3. restart it ($RESTART with its address as the last argument; it must return once the old
#      process has exited) and wait until its /health answers 200;
#   4. write the upstream with every server up again, reload, wait as in 2.
#
# nginx never sees a server fail, so its passive checks (max_fails, fail_timeout) never mark
# one as down behind your back: restarting the next server while nginx still holds the last one
# as failed is what made 8,010 requests fail (issue 15).
#
# The upstream file holds only the `upstream` block; the nginx configuration includes it (see
# docs/scaling.md). This script writes it whole each time, from the addresses given.
#
# Environment:
#   RESTART          command that restarts one app server (required)
#   NGINX            how to call nginx (default: nginx; with options, e.g. "nginx -c /etc/x.conf")
#   NGINX_PID        nginx's pid file (default: /run/nginx.pid)
#   UPSTREAM_NAME    the upstream's name (default: kommunen_kg)
#   DRAIN_TIMEOUT    seconds to wait for old nginx workers (default: 60; > proxy_read_timeout)
#   HEALTH_TIMEOUT   seconds to wait for a restarted server's /health (default: 120)
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: RESTART=COMMAND $0 UPSTREAM_FILE ADDRESS [ADDRESS ...]" >&2
  exit 2
fi
: "${RESTART:?set RESTART to the command that restarts one app server}"
upstream_file=$1
shift
addresses=("$@")
nginx=${NGINX:-nginx}
pid_file=${NGINX_PID:-/run/nginx.pid}
name=${UPSTREAM_NAME:-kommunen_kg}
drain_timeout=${DRAIN_TIMEOUT:-60}
health_timeout=${HEALTH_TIMEOUT:-120}

say() { echo "rolling-restart: $*" >&2; }

write_upstream() {  # $1: the address to mark down, or ""
  local tmp="$upstream_file.tmp" address flag
  {
    echo "upstream $name {"
    echo "    least_conn;"
    for address in "${addresses[@]}"; do
      flag=""
      [ "$address" = "$1" ] && flag=" down"
      echo "    server $address max_fails=3 fail_timeout=10s$flag;"
    done
    echo "    keepalive 64;"
    echo "}"
  } >"$tmp"
  mv "$tmp" "$upstream_file"
}

reload_and_drain() {
  local master old pid deadline
  master=$(cat "$pid_file")
  old=$(pgrep -P "$master" || true)
  $nginx -t -q
  $nginx -s reload
  deadline=$((SECONDS + drain_timeout))
  for pid in $old; do
    while kill -0 "$pid" 2>/dev/null; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        say "nginx worker $pid still answers requests after ${drain_timeout}s; stopping here"
        exit 1
      fi
      sleep 0.1
    done
  done
}

wait_healthy() {  # $1: address
  local deadline=$((SECONDS + health_timeout))
  until curl -fsS --max-time 5 -o /dev/null "http://$1/health"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "$1 does not answer /health after ${health_timeout}s; it stays out of the upstream"
      exit 1
    fi
    sleep 0.2
  done
}

for address in "${addresses[@]}"; do
  say "draining $address"
  write_upstream "$address"
  reload_and_drain
  say "restarting $address"
  $RESTART "$address"
  wait_healthy "$address"
  write_upstream ""
  reload_and_drain
  say "$address is back"
done
