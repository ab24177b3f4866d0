//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/digest"
	"github.com/greencampus/powerinput/internal/greenbot/influx"
	"github.com/greencampus/powerinput/internal/metaphor"
)

// recording is a Querier that keeps the text of every query it passes on.
type recording struct {
	q    digest.Querier
	sent []string
}

func (r *recording) Query(ctx context.Context, db, q string) ([]influx.Series, error) {
	r.sent = append(r.sent, q)
	return r.q.Query(ctx, db, q)
}

// TestDigestOnRollups makes the daily and the weekly digest of the seed's
// campus (chronograf/seed: hypervisor with VMs and services, a server, a
// guest, an estimated VM) over six weeks, once from the raw points and
// once from rollup_1h filled by setup-influxdb.sh's backfill: every
// number of the two digests (energies, CO₂, the parts of the period
// measured and estimated, the comparisons, the chart's days, the VMs and
// services) must be the same to 1e-9.
func TestDigestOnRollups(t *testing.T) {
	if _, err := exec.LookPath("influxd"); err != nil {
		t.Skip("needs influxd (apt-get install influxdb)")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip(err)
	}
	// Six weeks every hour, ending today at a local midnight, off
	// the minute so that no point sits on a day's edge.
	end := time.Now().In(loc)
	end = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, loc)
	lp := seed(t, repo, "-minutes", fmt.Sprint(42*24*60), "-step", "1h", "-end", fmt.Sprint(end.Unix()-37))
	srv := newInflux(t)
	withoutCQService(t, srv)
	srv.start()
	runSetup(t, srv, repo)
	writeLines(t, srv, strings.Split(strings.TrimSpace(string(lp)), "\n"))
	runSetup(t, srv, repo, "backfill", end.Add(-43*24*time.Hour).UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))

	client, err := influx.New(srv.url(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		weekly bool
		days   int
	}{{"daily", false, 1}, {"weekly", true, 7}} {
		t.Run(tc.name, func(t *testing.T) {
			r := digest.Request{Start: end.AddDate(0, 0, -tc.days), End: end, Loc: loc, Weekly: tc.weekly,
				Database: "metrics_from_pau", Retention: "forever", TopVMs: 5, TopServices: 10, Table: metaphor.Defaults()}
			made := map[string]map[string]any{}
			for _, rollup := range []string{"", "rollup_1h"} {
				r.Rollup = rollup
				rec := &recording{q: client}
				d, err := digest.Make(context.Background(), rec, r)
				if err != nil {
					t.Fatal(err)
				}
				read := "forever"
				if rollup != "" {
					read = rollup
				}
				for _, q := range rec.sent {
					if strings.HasPrefix(q, "SELECT") && !strings.Contains(q, `"metrics_from_pau"."`+read+`".`) {
						t.Fatalf("with rollup %q the digest reads %s", rollup, q)
					}
				}
				if d.Total.Joules <= 0 || d.Reporting < 3 || !d.Total.HasPrev {
					t.Fatalf("the %s digest from %s says too little to compare: %d hosts reporting, total %v J, previous %v", tc.name, read, d.Reporting, d.Total.Joules, d.Total.HasPrev)
				}
				// The digest says which it read; the rest must be equal.
				if d.Rollup != rollup {
					t.Errorf("with rollup %q the digest says it read rollup %q", rollup, d.Rollup)
				}
				d.Rollup = ""
				made[read] = asTree(t, d)
			}
			if diffs := treeDiff("", made["forever"], made["rollup_1h"]); len(diffs) > 0 {
				t.Errorf("the %s digest from rollup_1h differs from the raw points:\n%s", tc.name, strings.Join(diffs, "\n"))
			}
		})
	}
}

// asTree is d as JSON objects, arrays, strings and numbers.
func asTree(t *testing.T, d *digest.Digest) map[string]any {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// treeDiff lists where a and b differ; numbers are equal within 1e-9
// relative (1e-9 absolute near zero).
func treeDiff(path string, a, b any) []string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return []string{fmt.Sprintf("%s: %v, %v", path, a, b)}
		}
		var out []string
		for k := range av {
			out = append(out, treeDiff(path+"."+k, av[k], bv[k])...)
		}
		return out
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return []string{fmt.Sprintf("%s: %d items, %v", path, len(av), b)}
		}
		var out []string
		for i := range av {
			out = append(out, treeDiff(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i])...)
		}
		return out
	case float64:
		bv, ok := b.(float64)
		if !ok || math.Abs(av-bv) > 1e-9*math.Max(math.Abs(av), 1) {
			return []string{fmt.Sprintf("%s: raw %v, rollup %v", path, a, b)}
		}
		return nil
	default:
		if fmt.Sprint(a) != fmt.Sprint(b) {
			return []string{fmt.Sprintf("%s: raw %v, rollup %v", path, a, b)}
		}
		return nil
	}
}
