package alert

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/message"
)

func sampleState() State {
	since := time.Date(2026, 12, 5, 13, 3, 0, 0, time.UTC)
	st := State{Alerts: map[string]*Alert{}}
	for _, a := range []*Alert{
		{Kind: Power, Host: "kvm-0", Since: since, Active: true, Started: since.Add(5 * time.Minute), Peak: 452.5},
		{Kind: Silent, Host: "pc-12", Since: since, Active: true, Started: since.Add(10 * time.Minute)},
		{Kind: VMShare, Host: "kvm-0", VM: "web", Since: since, Peak: 0.7},
	} {
		st.Alerts[a.key()] = a
	}
	st.Outgoing = []message.Message{{ID: "alert/power/kvm-0/1796475780/start", Kind: message.AlertStart, Lang: "fr", Subject: "kvm-0 consomme plus de 400 W", Text: "…"}}
	return st
}

func TestStateRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "alerts.json")
	if st, err := LoadState(p); err != nil || len(st.Alerts) != 0 {
		t.Fatalf("a missing file: %+v, %v; want an empty state", st, err)
	}
	want := sampleState()
	if err := SaveState(p, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(p)
	if err != nil {
		t.Fatal(err)
	}
	a, b := got.Marshal()
	c, _ := want.Marshal()
	if b != nil || !bytes.Equal(a, c) {
		t.Errorf("read back\n%s\nwant\n%s", a, c)
	}
	for _, bad := range []string{
		`{"version":2,"alerts":[]}`,
		`{"version":1,"alerts":[{"kind":"power","host":"","since":"2026-12-05T13:03:00Z"}]}`,
		`{"version":1,"alerts":[{"kind":"fire","host":"h","since":"2026-12-05T13:03:00Z"}]}`,
		`{"version":1,"alerts":[{"kind":"power","host":"h","vm":"x","since":"2026-12-05T13:03:00Z"}]}`,
		`{"version":1,"alerts":[{"kind":"power","host":"h"}]}`,
		`{"version":1,"alerts":[null]}`,
		`{"version":1,"alerts":[{"kind":"power","host":"h","since":"2026-12-05T13:03:00Z"},{"kind":"power","host":"h","since":"2026-12-05T13:04:00Z"}]}`,
		`{"version":1,"alerts":[],"outgoing":[{"Subject":"x"}]}`,
		``, `{`,
	} {
		if _, err := ParseState(bytes.NewReader([]byte(bad))); err == nil {
			t.Errorf("ParseState(%s) accepted", bad)
		}
	}
}

// FuzzParseState: any file is read or refused with an error; what is read
// writes back to a file that reads the same.
func FuzzParseState(f *testing.F) {
	b, _ := sampleState().Marshal()
	f.Add(b)
	f.Add([]byte(`{"version":1,"alerts":[]}`))
	f.Add([]byte(`{"version":1,"alerts":[{"kind":"vm-share","host":"h","vm":"v","since":"2026-12-05T13:03:00Z","peak":1e308}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseState(bytes.NewReader(b))
		if err != nil {
			return
		}
		out, err := st.Marshal()
		if err != nil {
			return // a value JSON cannot write (none expected)
		}
		again, err := ParseState(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("written state does not read back: %v\n%s", err, out)
		}
		out2, _ := again.Marshal()
		if !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the state:\n%s\n%s", out, out2)
		}
	})
}
