package alert

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/influx"
)

// realAnswer has the shape of InfluxDB 1.x's answer to Queries
// (epoch=ns: a mean's time is the window's start, a null where a field has
// no value), with TestInfluxObserver's data.
const realAnswer = `{"results":[{"statement_id":0,"series":[{"name":"power_host","tags":{"host":"kvm-0","source":"rapl"},"columns":["time","last"],"values":[[1796479200000000000,400]]},{"name":"power_host","tags":{"host":"nas-2","source":"rapl"},"columns":["time","last"],"values":[[1796476200000000000,20]]},{"name":"power_host","tags":{"host":"pc-1","source":"model"},"columns":["time","last"],"values":[[1796479200000000000,35]]},{"name":"power_host","tags":{"host":"pc-1","source":"rapl"},"columns":["time","last"],"values":[[1796479120000000000,35]]}]},{"statement_id":1,"series":[{"name":"power_host","tags":{"host":"kvm-0"},"columns":["time","parts","wall","energy"],"values":[[1796479080000000001,400,520,48000]]},{"name":"power_host","tags":{"host":"pc-1"},"columns":["time","parts","wall","energy"],"values":[[1796479080000000001,35,null,4200]]}]},{"statement_id":2,"series":[{"name":"power_vm","tags":{"domain":"__odd","host":"kvm-0"},"columns":["time","sum"],"values":[[1796479080000000001,4800]]},{"name":"power_vm","tags":{"domain":"_unused","host":"kvm-0"},"columns":["time","sum"],"values":[[1796479080000000001,14400]]},{"name":"power_vm","tags":{"domain":"web","host":"kvm-0"},"columns":["time","sum"],"values":[[1796479080000000001,28800]]}]}]}`

func TestSnapshotOfRealAnswer(t *testing.T) {
	res, err := influx.Parse(bytes.NewReader([]byte(realAnswer)))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := snapshotOf(time.Unix(0, 1796479200000000000), res, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Hosts) != 3 {
		t.Fatalf("%d hosts, want 3", len(snap.Hosts))
	}
	if _, err := snapshotOf(time.Now(), res[:2], true); err == nil {
		t.Error("two answers for three statements accepted")
	}
}

// FuzzSnapshotOf: any answer InfluxDB's parser accepts gives a snapshot
// or an error, never a panic; every observation names its host and
// carries finite numbers.
func FuzzSnapshotOf(f *testing.F) {
	f.Add([]byte(realAnswer), true)
	f.Add([]byte(`{"results":[{"statement_id":0},{"statement_id":1}]}`), false)
	f.Add([]byte(`{"results":[{"statement_id":0,"series":[{"name":"power_host","tags":{"host":"h","source":"model"},"columns":["time","last"],"values":[["x",1]]}]},{"statement_id":1}]}`), false)
	f.Fuzz(func(t *testing.T, b []byte, vm bool) {
		res, err := influx.Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		snap, err := snapshotOf(time.Unix(1796479200, 0), res, vm)
		if err != nil {
			return
		}
		for _, o := range snap.Hosts {
			if o.Host == "" || math.IsNaN(o.Watts) || math.IsInf(o.Watts, 0) {
				t.Fatalf("observation %+v", o)
			}
			for vm, s := range o.VMShares {
				if vm == "" || math.IsNaN(s) || math.IsInf(s, 0) {
					t.Fatalf("share %q %v", vm, s)
				}
			}
		}
	})
}
