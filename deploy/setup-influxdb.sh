#!/bin/sh
# Create the database metrics_from_pau with its default retention policy
# "forever" (52 weeks), as the Green Campus lab runs it. Safe to run again:
# an existing policy is altered to these settings, never dropped, so no data
# is lost.
#
# Environment: INFLUX_HOST (127.0.0.1), INFLUX_PORT (8086), INFLUX_DB
# (metrics_from_pau), INFLUX_RP (forever), INFLUX_RP_DURATION (52w), and
# INFLUX_USERNAME / INFLUX_PASSWORD when authentication is on.
set -eu
host=${INFLUX_HOST:-127.0.0.1}
port=${INFLUX_PORT:-8086}
db=${INFLUX_DB:-metrics_from_pau}
rp=${INFLUX_RP:-forever}
duration=${INFLUX_RP_DURATION:-52w}

q() {
  influx -host "$host" -port "$port" -format csv -execute "$1"
}

q "CREATE DATABASE \"$db\"" >/dev/null
# csv rows: <name>,<duration>,<shard group duration>,<replicas>,<default>
policy() { q "SHOW RETENTION POLICIES ON \"$db\"" | grep "^$rp,"; }
if before=$(policy); then
  q "ALTER RETENTION POLICY \"$rp\" ON \"$db\" DURATION $duration REPLICATION 1 DEFAULT" >/dev/null
  if [ "$before" = "$(policy)" ]; then
    echo "retention policy $rp on $db: unchanged ($duration, default)"
  else
    echo "retention policy $rp on $db: updated ($duration, default)"
  fi
else
  q "CREATE RETENTION POLICY \"$rp\" ON \"$db\" DURATION $duration REPLICATION 1 DEFAULT" >/dev/null
  echo "retention policy $rp on $db: created ($duration, default)"
fi
