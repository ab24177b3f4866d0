package alert

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/influx"

	"github.com/greencampus/powerinput/internal/greenbot/testserver"
)

// startInflux starts a real influxd, or skips where it is not installed.
func startInflux(t *testing.T) string { return testserver.Influxd(t) }

// influxPost writes; a 404 (the database just made and not yet seen by
// the write path, under load) is tried again for a few seconds.
func influxPost(t *testing.T, url, path, body string) {
	t.Helper()
	for try := 0; ; try++ {
		resp, err := http.Post(url+path, "text/plain", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return
		}
		if resp.StatusCode != http.StatusNotFound || try == 50 {
			t.Fatalf("influxdb %s: HTTP %d", path, resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestInfluxObserver writes powerinput's measurements for three hosts
// into a real InfluxDB and reads a snapshot: kvm-0 measured at the wall
// with two VMs (and the non-VM parts), pc-1 measured then estimated,
// nas-2 silent for 50 minutes (within the default lookback of an hour);
// then the alerts they start.
func TestInfluxObserver(t *testing.T) {
	url := startInflux(t)
	resp, err := http.PostForm(url+"/query", map[string][]string{"q": {"CREATE DATABASE metrics_from_pau WITH NAME forever"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("create database: %v %v", err, resp)
	}
	resp.Body.Close()
	at := time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC)
	var lp strings.Builder
	point := func(format string, args ...any) { fmt.Fprintf(&lp, format+"\n", args...) }
	for i := 1; i <= 20; i++ { // one point every 10 s, the last at the evaluation
		ts := at.Add(-time.Duration(200-10*i) * time.Second).UnixNano()
		point("power_host,host=kvm-0,source=rapl,basis=wall power_watts=400,wall_watts=520,energy_joules=4000,interval_seconds=10 %d", ts)
		point("power_vm,host=kvm-0,source=rapl,domain=web power_watts=240,energy_joules=2400 %d", ts)
		point("power_vm,host=kvm-0,source=rapl,domain=__odd power_watts=40,energy_joules=400 %d", ts)
		point("power_vm,host=kvm-0,source=rapl,domain=_unused power_watts=120,energy_joules=1200 %d", ts)
		point("power_vm,host=kvm-0,source=rapl,domain=_hypervisor power_watts=40,energy_joules=400 %d", ts)
		src := "rapl"
		if i > 12 {
			src = "model"
		}
		point("power_host,host=pc-1,source=%s power_watts=35,energy_joules=350,interval_seconds=10 %d", src, ts)
	}
	point("power_host,host=nas-2,source=rapl power_watts=20,energy_joules=200 %d", at.Add(-50*time.Minute).UnixNano())
	influxPost(t, url, "/write?db=metrics_from_pau&rp=forever&precision=ns", lp.String())

	client, err := influx.New(url, "", "")
	if err != nil {
		t.Fatal(err)
	}
	obs := &InfluxObserver{Client: client, Database: "metrics_from_pau", RetentionPolicy: "forever", VMShares: true}
	before := client.Queries()
	snap, err := obs.Observe(context.Background(), at)
	if err != nil {
		t.Fatal(err)
	}
	if n := client.Queries() - before; n != 1 {
		t.Errorf("%d requests for a snapshot, want 1 (whatever the number of hosts)", n)
	}
	got := map[string]Observation{}
	for _, o := range snap.Hosts {
		got[o.Host] = o
	}
	k := got["kvm-0"]
	if !k.HasWatts || !k.Wall || k.Watts != 520 || !k.LastSeen.Equal(at) || k.Source != "rapl" {
		t.Errorf("kvm-0: %+v; want 520 W at the wall, last seen at the evaluation", k)
	}
	// Over the 2-minute window, 12 points: web 2400/4000 = 60 %, "_odd"
	// (written __odd) 10 %; _unused and _hypervisor are no VMs.
	if len(k.VMShares) != 2 || math.Abs(k.VMShares["web"]-0.6) > 1e-9 || math.Abs(k.VMShares["_odd"]-0.1) > 1e-9 {
		t.Errorf("kvm-0 shares %v, want web 0.6 and _odd 0.1", k.VMShares)
	}
	if p := got["pc-1"]; p.Source != "model" || !p.Measured || p.Watts != 35 || p.Wall {
		t.Errorf("pc-1: %+v; want estimated now, measured before, 35 W of parts", p)
	}
	if n := got["nas-2"]; n.HasWatts || !n.LastSeen.Equal(at.Add(-50*time.Minute)) {
		t.Errorf("nas-2: %+v; want silent, last seen 50 minutes before", n)
	}

	rules := Rules{PowerAbove: 500, PowerBelow: 450, SilentFor: 30 * time.Minute, ModelFallback: true, VMShareAbove: 0.5, VMShareBelow: 0.4}
	var st State
	var evs []string
	for _, e := range rules.Step(&st, snap) {
		evs = append(evs, e.ID())
	}
	want := []string{
		fmt.Sprintf("alert/power/kvm-0/%d/start", at.Unix()),
		fmt.Sprintf("alert/vm-share/kvm-0/web/%d/start", at.Unix()),
		fmt.Sprintf("alert/silent/nas-2/%d/start", at.Add(-50*time.Minute).Unix()),
		fmt.Sprintf("alert/model/pc-1/%d/start", at.Unix()),
	}
	if fmt.Sprint(evs) != fmt.Sprint(want) {
		t.Errorf("events\n%v\nwant\n%v", evs, want)
	}
}
