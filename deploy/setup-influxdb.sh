#!/bin/sh
# Create the database metrics_from_pau with its default retention policy
# "forever" (52 weeks), as the Green Campus lab runs it, and the rollups that
# keep long ranges fast: retention policies rollup_5m and rollup_1h, filled
# by continuous queries from the raw points of power_host, power_vm,
# power_service and power_process (docs/scale.md). Safe to run again: an
# existing policy is never dropped, and its duration is changed only where
# its variable below is set (a re-run with the defaults keeps a duration
# someone chose, so it never shortens one and loses data); a continuous
# query that differs is replaced, one that matches is left alone.
#
#   setup-influxdb.sh                    create or check everything
#   setup-influxdb.sh backfill FROM [TO] fill the rollups from the raw points
#                                        between FROM and TO (RFC 3339, TO
#                                        defaults to now), one week at a time:
#                                        once, for data written before the
#                                        continuous queries existed
#
# Environment: INFLUX_HOST (127.0.0.1), INFLUX_PORT (8086), INFLUX_DB
# (metrics_from_pau), INFLUX_RP (forever), INFLUX_RP_DURATION (52w),
# INFLUX_ROLLUP_5M_DURATION (104w), INFLUX_ROLLUP_1H_DURATION (INF),
# INFLUX_ROLLUP_SUM and INFLUX_ROLLUP_MEAN (the fields rolled up by sum and by
# mean; add your own metaphors' fields there), and INFLUX_USERNAME /
# INFLUX_PASSWORD when authentication is on.
set -eu
host=${INFLUX_HOST:-127.0.0.1}
port=${INFLUX_PORT:-8086}
db=${INFLUX_DB:-metrics_from_pau}
rp=${INFLUX_RP:-forever}
duration=${INFLUX_RP_DURATION:-52w}
# Fields read with sum() (energies, times, CO2, energy metaphors) and with
# mean() (powers, power metaphors). A field a measurement lacks is left out
# of its rollup points. power_watts_max is the max of power_watts.
sum_fields=${INFLUX_ROLLUP_SUM:-energy_joules interval_seconds cpu_seconds co2_grams wall_joules unused_capacity_joules smartphone_charges ebike_km}
mean_fields=${INFLUX_ROLLUP_MEAN:-power_watts wall_watts gpu_watts vcpus led_bulbs mac_pros_idle ps5s_standby ps5s_menu tvs_19in}
measurements="power_host power_vm power_service power_process"

q() {
  influx -host "$host" -port "$port" -format csv -execute "$1"
}

# rollup_select ROLLUP MEASUREMENT: the SELECT … INTO … FROM of one rollup,
# written as InfluxDB prints it back (SHOW CONTINUOUS QUERIES), so that a
# second run can tell an unchanged query.
rollup_select() {
  s="SELECT"
  for f in $sum_fields; do s="$s sum($f) AS $f,"; done
  for f in $mean_fields; do s="$s mean($f) AS $f,"; done
  echo "$s max(power_watts) AS power_watts_max INTO $db.$1.$2 FROM $db.$rp.$2"
}
bucket() { case $1 in rollup_5m) echo 5m ;; rollup_1h) echo 1h ;; esac; }
# How far back each run recomputes, for points that arrive late: Telegraf
# keeps what it could not send while the database was away, 10,000 points
# by default (metric_buffer_limit), half an hour to an hour of a host.
# Each hour of recomputing costs a read of the raw points (docs/scale.md).
resample() { case $1 in rollup_5m) echo "EVERY 5m FOR 1h" ;; rollup_1h) echo "EVERY 1h FOR 2h" ;; esac; }

if [ "${1:-}" = backfill ]; then
  [ $# -ge 2 ] || { echo "usage: $0 backfill FROM [TO] (RFC 3339 times)" >&2; exit 2; }
  from=$(date -u -d "$2" +%s) || { echo "backfill: FROM is not a time: $2" >&2; exit 2; }
  to=$(date -u -d "${3:-now}" +%s) || { echo "backfill: TO is not a time: $3" >&2; exit 2; }
  # Whole hours only: a bucket cut at either end would be written with part
  # of its points and overwrite a whole one.
  from=$((from / 3600 * 3600))
  to=$(((to + 3599) / 3600 * 3600))
  week=$((7 * 86400))
  while [ "$from" -lt "$to" ]; do
    end=$((from + week))
    [ "$end" -le "$to" ] || end=$to
    for r in rollup_5m rollup_1h; do
      for m in $measurements; do
        q "$(rollup_select "$r" "$m") WHERE time >= ${from}s AND time < ${end}s GROUP BY time($(bucket "$r")), *" >/dev/null
      done
    done
    echo "backfill $(date -u -d "@$from" +%Y-%m-%dT%H:%M:%SZ) to $(date -u -d "@$end" +%Y-%m-%dT%H:%M:%SZ): done"
    from=$end
  done
  exit 0
fi

q "CREATE DATABASE \"$db\"" >/dev/null
# csv rows: <name>,<duration>,<shard group duration>,<replicas>,<default>
policy() { q "SHOW RETENTION POLICIES ON \"$db\"" | grep "^$1,"; }
# as_shown DURATION: the duration as SHOW RETENTION POLICIES writes it
# (52w: 8736h0m0s, INF: 0s).
as_shown() {
  case $1 in
    INF|inf) echo 0s ;;
    *w) echo "$(( ${1%w} * 168 ))h0m0s" ;;
    *d) echo "$(( ${1%d} * 24 ))h0m0s" ;;
    *h) echo "${1%h}h0m0s" ;;
    *) echo "$1" ;;
  esac
}
# ensure_policy NAME DURATION SHARD-DURATION DEFAULT VARIABLE: DEFAULT is
# "default" or ""; VARIABLE names the environment variable of the duration.
ensure_policy() {
  spec="DURATION $2 REPLICATION 1${3:+ SHARD DURATION $3}${4:+ DEFAULT}"
  says="$2${4:+, default}"
  if before=$(policy "$1"); then
    now=$(echo "$before" | cut -d, -f2)
    if [ "$now" != "$(as_shown "$2")" ] && eval "[ -z \"\${$5:-}\" ]"; then
      # Someone chose another duration: keep it (and the default flag).
      [ -z "$4" ] || q "ALTER RETENTION POLICY \"$1\" ON \"$db\" DEFAULT" >/dev/null
      echo "retention policy $1 on $db: kept at $now (set $5 to change it)"
      return
    fi
    q "ALTER RETENTION POLICY \"$1\" ON \"$db\" $spec" >/dev/null
    if [ "$before" = "$(policy "$1")" ]; then
      echo "retention policy $1 on $db: unchanged ($says)"
    else
      echo "retention policy $1 on $db: updated ($says)"
    fi
  else
    q "CREATE RETENTION POLICY \"$1\" ON \"$db\" $spec" >/dev/null
    echo "retention policy $1 on $db: created ($says)"
  fi
}
ensure_policy "$rp" "$duration" "" default INFLUX_RP_DURATION
# Longer shards than InfluxDB's default (1 week) for the rollups: a year's
# query then opens 13 or 2 shards, not 52.
ensure_policy rollup_5m "${INFLUX_ROLLUP_5M_DURATION:-104w}" 4w "" INFLUX_ROLLUP_5M_DURATION
ensure_policy rollup_1h "${INFLUX_ROLLUP_1H_DURATION:-INF}" 26w "" INFLUX_ROLLUP_1H_DURATION

# csv rows: <database>,<name>,"<query>"
stored() {
  q "SHOW CONTINUOUS QUERIES" | grep "^$db,$1," | sed "s/^$db,$1,//; s/^\"//; s/\"\$//" || true
}
created=0 updated=0 unchanged=0
for r in rollup_5m rollup_1h; do
  for m in $measurements; do
    name=${r}_$m
    want="CREATE CONTINUOUS QUERY $name ON $db RESAMPLE $(resample "$r") BEGIN $(rollup_select "$r" "$m") GROUP BY time($(bucket "$r")), * END"
    have=$(stored "$name")
    if [ "$have" = "$want" ]; then
      unchanged=$((unchanged + 1))
      continue
    fi
    if [ -n "$have" ]; then
      q "DROP CONTINUOUS QUERY \"$name\" ON \"$db\"" >/dev/null
      updated=$((updated + 1))
    else
      created=$((created + 1))
    fi
    q "$want" >/dev/null
  done
done
echo "continuous queries on $db: $created created, $updated updated, $unchanged unchanged"
