package chronograf

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServedByChronograf loads the files into a real Chronograf, as users
// do (--resources-path), and checks that each dashboard is served whole:
// Chronograf skips a file it cannot decode with one log line, and then
// serves it, and every file after it, as an empty dashboard (id 0, no
// cells). It also asks the server for the time range of each query that
// groups by time(:interval:), as the browser does: a range it cannot find
// becomes time(0ms). Set CHRONOGRAF_BIN to a Chronograf 1.10 binary; no
// InfluxDB and no network are needed.
func TestServedByChronograf(t *testing.T) {
	bin := os.Getenv("CHRONOGRAF_BIN")
	if bin == "" {
		t.Skip("CHRONOGRAF_BIN is not set: set it to a Chronograf 1.10 binary to check that it serves the dashboards")
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Skipf("CHRONOGRAF_BIN=%s is not an executable file (%v): skipping the check against a real Chronograf", bin, err)
	}
	files := readDashboards(t)
	srv := startChronograf(t, bin)

	var list struct {
		Dashboards []struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			Cells []any  `json:"cells"`
		} `json:"dashboards"`
	}
	srv.get(t, "/chronograf/v1/dashboards", &list)
	listed := map[string]int{}
	for _, d := range list.Dashboards {
		listed[d.ID] = len(d.Cells)
	}

	for file, want := range files {
		id := fmt.Sprint(want.ID)
		if n, ok := listed[id]; !ok || n != len(want.Cells) {
			t.Errorf("%s: id %s listed with %d cells (listed: %v), want %d", file, id, n, ok, len(want.Cells))
		}
		// Decoded loosely, to see what the browser gets: null is not [].
		var got struct {
			ID        string `json:"id"`
			Name      string `json:"name"`
			Templates []struct {
				TempVar string          `json:"tempVar"`
				Values  json.RawMessage `json:"values"`
			} `json:"templates"`
			Cells []struct {
				I            string          `json:"i"`
				Type         string          `json:"type"`
				Name         string          `json:"name"`
				FieldOptions json.RawMessage `json:"fieldOptions"`
				Queries      []struct {
					Query string `json:"query"`
				} `json:"queries"`
			} `json:"cells"`
		}
		srv.get(t, "/chronograf/v1/dashboards/"+id, &got)
		if got.ID != id || got.Name != want.Name {
			t.Errorf("%s: served as id %q, name %q: want %s, %q (an empty id-0 dashboard means the file was skipped; see the log)", file, got.ID, got.Name, id, want.Name)
			continue
		}
		if len(got.Cells) != len(want.Cells) || len(got.Templates) != len(want.Templates) {
			t.Errorf("%s: served with %d cells and %d templates, want %d and %d", file, len(got.Cells), len(got.Templates), len(want.Cells), len(want.Templates))
			continue
		}
		for i, c := range got.Cells {
			w := want.Cells[i]
			if c.I != w.I || c.Type != w.Type || c.Name != w.Name || len(c.Queries) != len(w.Queries) {
				t.Errorf("%s: cell %d served as %q (%s, %q, %d queries), want %q (%s, %q, %d)", file, i, c.I, c.Type, c.Name, len(c.Queries), w.I, w.Type, w.Name, len(w.Queries))
			}
			if !bytes.HasPrefix(c.FieldOptions, []byte("[")) {
				t.Errorf("%s: cell %s served with fieldOptions %s: a table stays empty", file, c.I, c.FieldOptions)
			}
		}
		for _, tv := range got.Templates {
			if !bytes.HasPrefix(tv.Values, []byte("[")) {
				t.Errorf("%s: template %s served with values %s: the page stays blank", file, tv.TempVar, tv.Values)
			}
		}
		for _, c := range want.Cells {
			for _, q := range c.Queries {
				if strings.Contains(q.Query, ":interval:") {
					srv.checkInterval(t, file+", cell "+c.I, q.Query)
				}
			}
		}
	}

	var sources struct {
		Sources []struct {
			ID       string `json:"id"`
			Telegraf string `json:"telegraf"`
		} `json:"sources"`
	}
	srv.get(t, "/chronograf/v1/sources", &sources)
	found := false
	for _, s := range sources.Sources {
		found = found || (s.ID == "10000" && s.Telegraf == "metrics_from_pau")
	}
	if !found {
		t.Errorf("source 10000 (pau-influxdb.src) not served: %+v", sources.Sources)
	}

	for _, line := range strings.Split(srv.logText(), "\n") {
		if regexp.MustCompile(`level=error|skipped`).MatchString(line) {
			t.Errorf("Chronograf logged: %s", line)
		}
	}
}

// The shipped source must not take over from the InfluxDB a user names
// with --influxdb-url (the first page would read an empty or absent
// InfluxDB): with both, Chronograf's browser opens the one source marked
// default, which must be the user's; without the flag, the shipped source
// is the only one and is used.
func TestShippedSourceYields(t *testing.T) {
	bin := os.Getenv("CHRONOGRAF_BIN")
	if bin == "" {
		t.Skip("CHRONOGRAF_BIN is not set: set it to a Chronograf 1.10 binary to check which source it opens")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	users := fmt.Sprintf("http://%s", l.Addr()) // no InfluxDB needed: Chronograf only lists it
	l.Close()
	srv := startChronograf(t, bin, "--influxdb-url="+users)
	var sources struct {
		Sources []struct {
			ID      string `json:"id"`
			URL     string `json:"url"`
			Default bool   `json:"default"`
		} `json:"sources"`
	}
	srv.get(t, "/chronograf/v1/sources", &sources)
	var defaults []string
	shipped := false
	for _, s := range sources.Sources {
		if s.Default {
			defaults = append(defaults, s.URL)
		}
		shipped = shipped || s.ID == "10000"
	}
	if len(defaults) != 1 || defaults[0] != users || !shipped {
		t.Errorf("sources marked default: %v, want only the user's %s (and the shipped one listed: %v)", defaults, users, shipped)
	}
}

type chronograf struct {
	url string
	log string // log file
}

// startChronograf serves a copy of the dashboards and the source on a free
// loopback port, reporting off, with nothing but the copy to read.
func startChronograf(t *testing.T, bin string, extra ...string) *chronograf {
	t.Helper()
	dir := t.TempDir()
	res := filepath.Join(dir, "resources")
	empty := filepath.Join(dir, "empty")
	for _, d := range []string{res, empty} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, pattern := range []string{"*.dashboard", "*.src"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(res, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	srv := &chronograf{url: fmt.Sprintf("http://127.0.0.1:%d", port), log: filepath.Join(dir, "chronograf.log")}
	logFile, err := os.Create(srv.log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append([]string{
		"--host=127.0.0.1", fmt.Sprintf("--port=%d", port),
		"--bolt-path=" + filepath.Join(dir, "chronograf.db"),
		"--resources-path=" + res, "--canned-path=" + empty, "--protoboards-path=" + empty,
		"--reporting-disabled", "--log-level=info"}, extra...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	orphanless(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		logFile.Close()
	})
	deadline := time.Now().Add(2 * time.Minute) // it unpacks its web pages first: a minute on a busy machine
	for {
		resp, err := http.Get(srv.url + "/chronograf/v1/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return srv
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Chronograf did not answer within 2 minutes:\n%s", srv.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *chronograf) logText() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

func (s *chronograf) get(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// checkInterval asks the server how long the query's range is, with the
// variables replaced as the browser replaces them for "Past 1h" (the host
// as an influxql value, bare). The browser divides that duration to get
// :interval:; a duration the server cannot find gives time(0ms), which
// InfluxDB rejects.
func (s *chronograf) checkInterval(t *testing.T, where, query string) {
	t.Helper()
	q := query
	if strings.Contains(q, "time > :dashboardTime:") && !strings.Contains(q, ":upperDashboardTime:") && !strings.Contains(q, "time <") {
		q = strings.ReplaceAll(q, "time > :dashboardTime:", "time > :dashboardTime: AND time < :upperDashboardTime:")
	}
	q = strings.NewReplacer(":dashboardTime:", "now() - 1h", ":upperDashboardTime:", "now()", ":host:", "kvm-0").Replace(q)
	body, _ := json.Marshal(map[string]any{"queries": []map[string]string{{"id": "q", "query": q}}})
	resp, err := http.Post(s.url+"/chronograf/v1/sources/10000/queries", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var res struct {
		Queries []struct {
			DurationMs int64 `json:"durationMs"`
		} `json:"queries"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &res) != nil || len(res.Queries) != 1 {
		t.Errorf("%s: POST queries: %s\n%s", where, resp.Status, raw)
		return
	}
	if d := res.Queries[0].DurationMs; d < 3590000 {
		t.Errorf("%s: Chronograf finds a range of %d ms in the query, not 1 h: the browser would send time(%dms)\n%s", where, d, d/360, q)
	}
}
