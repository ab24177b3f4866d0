package bot

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/influx"
	"github.com/greencampus/powerinput/internal/greenbot/testserver"
)

// TestOnceQueryFails, the sibling of TestOnceNothingWritten: where the
// digest's queries fail (InfluxDB unreachable, then answering without the
// database), -once returns an error, sends nothing and marks nothing
// sent; never "no machine sent a measurement".
func TestOnceQueryFails(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip(err)
	}
	now := time.Date(2026, 12, 7, 8, 5, 0, 0, loc)
	dir := t.TempDir()
	down, err := influx.New(fmt.Sprintf("http://127.0.0.1:%d", testserver.FreePort(t)), "", "")
	if err != nil {
		t.Fatal(err)
	}
	down.Attempts, down.Backoff = 2, time.Millisecond
	b, rec := testBot(t, down, now, dir)
	if err := b.Once(context.Background()); err == nil || len(rec.sent) != 0 {
		t.Fatalf("unreachable: err %v, sent %d, want an error and nothing", err, len(rec.sent))
	}
	if _, err := os.Stat(b.statePath()); err == nil {
		if st, _ := b.loadState(); len(st) != 0 {
			t.Errorf("unreachable: state marks %v sent", st)
		}
	}
	up, err := influx.New(testserver.Influxd(t), "", "") // no CREATE DATABASE
	if err != nil {
		t.Fatal(err)
	}
	up.Attempts = 1
	b2, rec2 := testBot(t, up, now, dir)
	err = b2.Once(context.Background())
	if err == nil || len(rec2.sent) != 0 {
		for _, m := range rec2.sent {
			t.Logf("sent %s:\n%s", m.ID, m.Text)
		}
		t.Fatalf("missing database: err %v, sent %d, want an error and nothing", err, len(rec2.sent))
	}
	if st, _ := b2.loadState(); len(st) != 0 {
		t.Errorf("missing database: state marks %v sent", st)
	}
}
