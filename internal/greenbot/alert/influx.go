package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/influx"
)

// Querier runs InfluxQL statements and returns one result per statement
// (influx.Client).
type Querier interface {
	QueryResults(ctx context.Context, db, q string) ([]influx.Result, error)
}

// InfluxObserver reads Snapshots from powerinput's measurements in one
// request of three or four statements, each grouped by host: their number
// does not grow with the number of hosts.
type InfluxObserver struct {
	Client          Querier
	Database        string
	RetentionPolicy string // "" for the database's default
	// Step is the window whose mean power and shares are judged (default
	// 2 minutes: at least one point at Telegraf's usual interval);
	// Lookback how far back a host is looked for (default an hour; at
	// least twice the silence to report: a host silent for longer than
	// the lookback when the bot starts is not reported, and every
	// evaluation reads the lookback's points).
	Step, Lookback time.Duration
	VMShares       bool
}

func (o *InfluxObserver) measurement(name string) string {
	rp := ""
	if o.RetentionPolicy != "" {
		rp = quoteIdent(o.RetentionPolicy)
	}
	return quoteIdent(o.Database) + "." + rp + "." + quoteIdent(name)
}

func quoteIdent(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func timeRange(from, to time.Time) string {
	return fmt.Sprintf("time > '%s' AND time <= '%s'", from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano))
}

// Queries are the statements for a snapshot at at.
func (o *InfluxObserver) Queries(at time.Time) string {
	step, look := o.window()
	host := o.measurement("power_host")
	q := []string{
		fmt.Sprintf(`SELECT last("power_watts") FROM %s WHERE %s GROUP BY "host", "source"`, host, timeRange(at.Add(-look), at)),
		fmt.Sprintf(`SELECT mean("power_watts") AS "parts", mean("wall_watts") AS "wall", sum("energy_joules") AS "energy" FROM %s WHERE %s GROUP BY "host"`, host, timeRange(at.Add(-step), at)),
	}
	if o.VMShares {
		q = append(q, fmt.Sprintf(`SELECT sum("energy_joules") FROM %s WHERE %s GROUP BY "host", "domain"`, o.measurement("power_vm"), timeRange(at.Add(-step), at)))
	}
	return strings.Join(q, "; ")
}

func (o *InfluxObserver) window() (step, look time.Duration) {
	step, look = o.Step, o.Lookback
	if step <= 0 {
		step = 2 * time.Minute
	}
	if look <= 0 {
		look = time.Hour
	}
	return step, look
}

// Observe asks the database for the snapshot at at.
func (o *InfluxObserver) Observe(ctx context.Context, at time.Time) (Snapshot, error) {
	res, err := o.Client.QueryResults(ctx, o.Database, o.Queries(at))
	if err != nil {
		return Snapshot{}, err
	}
	return snapshotOf(at, res, o.VMShares)
}

// snapshotOf reads the answers to Queries.
func snapshotOf(at time.Time, res []influx.Result, vmShares bool) (Snapshot, error) {
	want := 2
	if vmShares {
		want = 3
	}
	if len(res) != want {
		return Snapshot{}, fmt.Errorf("influxdb answered %d statements of %d", len(res), want)
	}
	byHost := map[string]*Observation{}
	get := func(h string) *Observation {
		if byHost[h] == nil {
			byHost[h] = &Observation{Host: h}
		}
		return byHost[h]
	}
	for _, s := range res[0].Series {
		h, src := s.Tags["host"], s.Tags["source"]
		if h == "" || len(s.Values) == 0 {
			continue
		}
		t, err := nsTime(s.Values[len(s.Values)-1], s.Columns)
		if err != nil {
			return Snapshot{}, fmt.Errorf("last point of %q: %w", clip(h), err)
		}
		ob := get(h)
		if src != "model" {
			ob.Measured = true
		}
		if t.After(ob.LastSeen) {
			ob.LastSeen, ob.Source = t, src
		}
	}
	energy := map[string]float64{}
	for _, s := range res[1].Series {
		h := s.Tags["host"]
		if h == "" || len(s.Values) == 0 {
			continue
		}
		row := s.Values[0]
		ob := get(h)
		if w, ok := floatAt(row, s.Columns, "wall"); ok {
			ob.Watts, ob.HasWatts, ob.Wall = w, true, true
		} else if w, ok := floatAt(row, s.Columns, "parts"); ok {
			ob.Watts, ob.HasWatts = w, true
		}
		energy[h], _ = floatAt(row, s.Columns, "energy")
	}
	if vmShares {
		for _, s := range res[2].Series {
			h, d := s.Tags["host"], s.Tags["domain"]
			if h == "" || d == "" || len(s.Values) == 0 || energy[h] <= 0 {
				continue
			}
			name, ok := influx.VMName(d)
			if !ok {
				continue
			}
			e, ok := floatAt(s.Values[0], s.Columns, "sum")
			if !ok {
				continue
			}
			ob := get(h)
			if ob.VMShares == nil {
				ob.VMShares = map[string]float64{}
			}
			if share := e / energy[h]; !math.IsInf(share, 0) && !math.IsNaN(share) {
				ob.VMShares[name] += share
			}
		}
	}
	snap := Snapshot{At: at}
	for _, ob := range byHost {
		snap.Hosts = append(snap.Hosts, *ob)
	}
	return snap, nil
}

func column(cols []string, name string) int {
	for i, c := range cols {
		if c == name {
			return i
		}
	}
	return -1
}

// floatAt is a row's finite float in column name.
func floatAt(row []any, cols []string, name string) (float64, bool) {
	i := column(cols, name)
	if i < 0 || i >= len(row) {
		return 0, false
	}
	n, ok := row[i].(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// nsTime is a row's time (epoch=ns).
func nsTime(row []any, cols []string) (time.Time, error) {
	i := column(cols, "time")
	if i < 0 || i >= len(row) {
		return time.Time{}, fmt.Errorf("no time column")
	}
	n, ok := row[i].(json.Number)
	if !ok {
		return time.Time{}, fmt.Errorf("time is not a number")
	}
	ns, err := n.Int64()
	if err != nil {
		return time.Time{}, fmt.Errorf("time: %w", err)
	}
	return time.Unix(0, ns).UTC(), nil
}
