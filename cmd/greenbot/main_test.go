package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/greenbot/atomicfile"
	"github.com/greencampus/powerinput/internal/greenbot/digest/synth"
	"github.com/greencampus/powerinput/internal/greenbot/influx"
)

// fakeInflux answers the digests' power_host query with two hosts
// measured all along, the others with nothing: one result a statement.
func fakeInflux(t *testing.T) string {
	t.Helper()
	now := time.Now().UTC()
	days := synth.Days(2, now.AddDate(0, 0, -40), now.AddDate(0, 0, 1), time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var results []any
		for _, q := range strings.Split(r.FormValue("q"), ";") {
			var s []influx.Series
			if strings.Contains(q, `"power_host"`) && strings.HasPrefix(strings.TrimSpace(q), "SELECT") {
				s = days
			}
			results = append(results, map[string]any{"series": s})
		}
		json.NewEncoder(w).Encode(map[string]any{"results": results})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func writeConf(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "greenbot.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// consoleConf writes a config with state in state, InfluxDB at influxURL
// and one daily digest "d" sent to the console; more is appended as is:
// keys of that digest first, then any further tables.
func consoleConf(t *testing.T, state, influxURL, more string) string {
	t.Helper()
	return writeConf(t, `time_zone = "UTC"
state_dir = "`+state+`"
[influxdb]
url = "`+influxURL+`"
attempts = 1
[destinations.console.stdout]
[[digest]]
name = "d"
schedule = "daily 08:00"
to = ["console"]
`+more)
}

func TestRun(t *testing.T) {
	good := consoleConf(t, t.TempDir(), fakeInflux(t), `lang = "fr"
[[alert]]
name = "silent"
silent_for = "10m"
to = ["console"]
`)
	for _, tc := range []struct {
		name   string
		o      options
		code   int
		stdout string
		stderr string
	}{
		{"version", options{version: true}, 0, "greenbot ", ""},
		{"no config", options{config: "/nonexistent/greenbot.toml", format: "text"}, 2, "", "/nonexistent/greenbot.toml"},
		{"unknown key", options{config: writeConf(t, "[influxdb]\nadress = \"x\"\n"), format: "text"}, 2, "", "influxdb.adress"},
		{"bad format", options{config: good, preview: true, format: "pdf"}, 2, "", "-format \"pdf\""},
		{"unknown digest", options{config: good, preview: true, format: "text", digest: "nope"}, 2, "", "nope"},
		{"preview text", options{config: good, preview: true, format: "text"}, 0, "Vos 2 machines ont consommé", ""},
		{"preview html", options{config: good, preview: true, format: "html"}, 0, `src="data:image/png;base64,`, ""},
		{"once", options{config: good, once: true, format: "text"}, 0, "Green Campus\u202F: l’énergie du", ""},
		{"once again: nothing", options{config: good, once: true, format: "text"}, 0, "", ""},
		{"check", options{config: good, check: true, format: "text"}, 0, "destination console: test message sent", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tc.o, &out, &errb)
			if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q", code, out.String(), errb.String(), tc.code, tc.stdout, tc.stderr)
			}
			if tc.name == "once again: nothing" && strings.Contains(out.String(), "Green Campus") {
				t.Errorf("a second -once sent again:\n%s", out.String())
			}
		})
	}
}

// TestOnceRefusesWhileAnotherSends: the timer's -once while the daemon
// runs on the same state_dir would send twice and race on the alerts'
// state; it must refuse, naming the other process.
func TestOnceRefusesWhileAnotherSends(t *testing.T) {
	state := t.TempDir()
	conf := consoleConf(t, state, fakeInflux(t), "")
	daemon, err := atomicfile.TakeLock(state, "greenbot.lock")
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), options{config: conf, once: true, format: "text"}, &out, &errb)
	if code == 0 || out.Len() > 0 || !strings.Contains(errb.String(), "not both") || !strings.Contains(errb.String(), "process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("with the lock held: exit %d, stdout %q, stderr %q; want a refusal naming this process and nothing sent", code, out.String(), errb.String())
	}
	daemon.Release()
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), options{config: conf, once: true, format: "text"}, &out, &errb); code != 0 || out.Len() == 0 {
		t.Fatalf("after the other let go: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

// TestHostsWrote: -check counts hosts in good English, and says where to
// look when there are none.
func TestHostsWrote(t *testing.T) {
	for _, c := range []struct {
		hosts []string
		want  string
	}{
		{nil, "influxdb: no host wrote power_host in the last day in db (powerinput -doctor on a machine says what it can measure)"},
		{[]string{"kvm-0"}, "influxdb: 1 host wrote power_host in the last day in db: kvm-0"},
		{[]string{"kvm-0", "kvm-1"}, "influxdb: 2 hosts wrote power_host in the last day in db: kvm-0, kvm-1"},
	} {
		if got := hostsWrote(c.hosts, "db"); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
