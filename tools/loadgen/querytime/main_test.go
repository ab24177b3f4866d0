package main

import (
	"encoding/json"
	"testing"
	"time"
)

func TestRenderAndRollup(t *testing.T) {
	end := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, query string
		r           time.Duration
		raw, rollup string
	}{
		{
			name:   "a day of power: 5-minute rollup, interval raised to its bucket",
			query:  `SELECT mean("power_watts") FROM "metrics_from_pau"."forever"."power_host" WHERE time > :dashboardTime: AND "host" = ':host:' GROUP BY time(:interval:)`,
			r:      24 * time.Hour,
			raw:    `SELECT mean("power_watts") FROM "metrics_from_pau"."forever"."power_host" WHERE time > '2026-12-02T00:00:00Z' AND time < '2026-12-03T00:00:00Z' AND "host" = 'day-0' GROUP BY time(240000ms)`,
			rollup: `SELECT mean("power_watts") FROM "metrics_from_pau"."rollup_5m"."power_host" WHERE time > '2026-12-02T00:00:00Z' AND time < '2026-12-03T00:00:00Z' AND "host" = 'day-0' GROUP BY time(300000ms)`,
		},
		{
			name:   "a year of services: hourly rollup, interval kept",
			query:  `SELECT sum("energy_joules") FROM "metrics_from_pau"."forever"."power_service" WHERE time > :dashboardTime: AND time < :upperDashboardTime: GROUP BY time(:interval:), "unit"`,
			r:      8760 * time.Hour,
			raw:    `SELECT sum("energy_joules") FROM "metrics_from_pau"."forever"."power_service" WHERE time > '2025-12-03T00:00:00Z' AND time < '2026-12-03T00:00:00Z' GROUP BY time(87600000ms), "unit"`,
			rollup: `SELECT sum("energy_joules") FROM "metrics_from_pau"."rollup_1h"."power_service" WHERE time > '2025-12-03T00:00:00Z' AND time < '2026-12-03T00:00:00Z' GROUP BY time(87600000ms), "unit"`,
		},
		{
			name:  "cpu has no rollup",
			query: `SELECT mean("usage_user") FROM "metrics_from_pau"."forever"."cpu" WHERE time > :dashboardTime: AND time < :upperDashboardTime:`,
			r:     time.Hour,
			raw:   `SELECT mean("usage_user") FROM "metrics_from_pau"."forever"."cpu" WHERE time > '2026-12-02T23:00:00Z' AND time < '2026-12-03T00:00:00Z'`,
		},
		{
			name:  "a subquery mixing power_host and powerstat_package has none either",
			query: `SELECT a FROM (SELECT mean("power_watts") AS a FROM "metrics_from_pau"."forever"."power_host" WHERE time > :dashboardTime: AND time < :upperDashboardTime:), (SELECT mean("current_power_consumption_watts") FROM "metrics_from_pau"."forever"."powerstat_package" WHERE time > :dashboardTime: AND time < :upperDashboardTime:)`,
			r:     time.Hour,
			raw:   `SELECT a FROM (SELECT mean("power_watts") AS a FROM "metrics_from_pau"."forever"."power_host" WHERE time > '2026-12-02T23:00:00Z' AND time < '2026-12-03T00:00:00Z'), (SELECT mean("current_power_consumption_watts") FROM "metrics_from_pau"."forever"."powerstat_package" WHERE time > '2026-12-02T23:00:00Z' AND time < '2026-12-03T00:00:00Z')`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := render(tc.query, vars{":host:": "day-0"}, end, tc.r)
			if raw != tc.raw {
				t.Errorf("render:\ngot  %s\nwant %s", raw, tc.raw)
			}
			if got := onRollup(raw, tc.r); got != tc.rollup {
				t.Errorf("onRollup:\ngot  %s\nwant %s", got, tc.rollup)
			}
		})
	}
}

// A dashboard's :detail: variable (a map of retention policies) takes its
// selected value without asking the server, so that its queries read the
// raw points and onRollup can move them to a rollup.
func TestResolveListed(t *testing.T) {
	var d dashboard
	err := json.Unmarshal([]byte(`{"templates": [{"tempVar": ":detail:", "type": "map", "values": [
		{"key": "10 s", "value": "forever", "type": "map", "selected": true},
		{"key": "1 hour", "value": "rollup_1h", "type": "map", "selected": false}]}]}`), &d)
	if err != nil {
		t.Fatal(err)
	}
	v := resolve(nil, d, vars{})
	q := render(`SELECT sum("energy_joules") FROM "metrics_from_pau".":detail:"."power_vm" WHERE time > :dashboardTime:`, v, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), 8760*time.Hour)
	want := `SELECT sum("energy_joules") FROM "metrics_from_pau"."rollup_1h"."power_vm" WHERE time > '2025-12-03T00:00:00Z' AND time < '2026-12-03T00:00:00Z'`
	if got := onRollup(q, 8760*time.Hour); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestVarsFlag(t *testing.T) {
	v := vars{}
	if err := v.Set("host=kvm-0"); err != nil || v[":host:"] != "kvm-0" {
		t.Errorf("Set(host=kvm-0): %v, %v", err, v)
	}
	if err := v.Set("host"); err == nil {
		t.Error("Set(host) without a value: no error")
	}
}
