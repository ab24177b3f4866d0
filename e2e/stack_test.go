//go:build e2e

// Package e2e runs the lab's pipeline for real: powerinput under Telegraf
// v1.37.2's execd input, shipping to an InfluxDB 1.x server (Debian's) into
// the database metrics_from_pau with retention policy forever. Run it with
// make e2e, which builds and passes the binaries.
package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// influxServer is an influxd on loopback ports with its own directories.
type influxServer struct {
	t        *testing.T
	dir      string
	httpPort int
	cmd      *exec.Cmd
	log      *os.File
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newInflux(t *testing.T) *influxServer {
	t.Helper()
	s := &influxServer{t: t, dir: t.TempDir(), httpPort: freePort(t)}
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:%d"
  log-enabled = false
`, freePort(t), filepath.Join(s.dir, "meta"), filepath.Join(s.dir, "data"), filepath.Join(s.dir, "wal"), s.httpPort)
	if err := os.WriteFile(filepath.Join(s.dir, "influxdb.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	if s.log, err = os.Create(filepath.Join(s.dir, "influxd.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop(); s.log.Close() })
	return s
}

func (s *influxServer) url() string { return fmt.Sprintf("http://127.0.0.1:%d", s.httpPort) }

func (s *influxServer) start() {
	s.t.Helper()
	s.cmd = exec.Command("influxd", "-config", filepath.Join(s.dir, "influxdb.conf"))
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = orphanless()
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start influxd: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.url() + "/ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("influxd did not answer /ping within 30 s; see %s", s.log.Name())
}

func (s *influxServer) stop() {
	terminate(s.cmd, 15*time.Second)
	s.cmd = nil
}

// orphanless makes the kernel kill a child if the test process dies (a
// timeout panic skips the cleanups); Telegraf's own powerinput then sees
// stdin close and exits.
func orphanless() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// terminate sends SIGTERM, and SIGKILL if the process is still there after
// grace; it returns once the process is gone.
func terminate(cmd *exec.Cmd, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		cmd.Process.Kill()
		<-done
	}
}

// series is one series of an InfluxQL answer.
type series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]interface{}   `json:"values"`
}

// query runs InfluxQL and returns its series; an error answer fails the test.
func (s *influxServer) query(t *testing.T, q string) []series {
	t.Helper()
	res, err := s.tryQuery(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res
}

func (s *influxServer) tryQuery(q string) ([]series, error) {
	resp, err := http.Get(s.url() + "/query?epoch=ns&q=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Results []struct {
			Series []series `json:"series"`
			Error  string   `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return nil, err
	}
	if body.Error != "" {
		return nil, fmt.Errorf("%s", body.Error)
	}
	var out []series
	for _, r := range body.Results {
		if r.Error != "" {
			return nil, fmt.Errorf("%s", r.Error)
		}
		out = append(out, r.Series...)
	}
	return out, nil
}

// column returns the values of one column of a series.
func column(t *testing.T, s series, name string) []interface{} {
	t.Helper()
	for i, c := range s.Columns {
		if c == name {
			out := make([]interface{}, len(s.Values))
			for j, row := range s.Values {
				out[j] = row[i]
			}
			return out
		}
	}
	t.Fatalf("series %s has no column %q (columns %v)", s.Name, name, s.Columns)
	return nil
}

func floats(t *testing.T, vs []interface{}) []float64 {
	t.Helper()
	out := make([]float64, 0, len(vs))
	for _, v := range vs {
		if v == nil {
			continue
		}
		f, err := v.(json.Number).Float64()
		if err != nil {
			t.Fatalf("not a number: %v", v)
		}
		out = append(out, f)
	}
	return out
}

func times(t *testing.T, s series) []time.Time {
	t.Helper()
	var out []time.Time
	for _, v := range column(t, s, "time") {
		n, err := v.(json.Number).Int64()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, time.Unix(0, n))
	}
	return out
}

// agent is one Telegraf with powerinput on its own fixture tree.
type agent struct {
	name string
	dir  string
	cmd  *exec.Cmd
	log  *os.File
}

func startAgent(t *testing.T, name, telegraf, powerinput, repo, influxURL string, fx *fixture) *agent {
	t.Helper()
	a := &agent{name: name, dir: t.TempDir()}
	pconf := filepath.Join(a.dir, "powerinput.conf")
	text := fmt.Sprintf("[[inputs.powerinput]]\nhost_sys = %q\nhost_proc = %q\nhost_dev = %q\nvm_powercap_path = %q\nsources = %s\ncarbon_intensity_g_per_kwh = 56.0\ninterfaces = [\"eth*\"]\n%s",
		filepath.Join(fx.root, "sys"), filepath.Join(fx.root, "proc"), filepath.Join(fx.root, "dev"), filepath.Join(fx.root, "vm"), fx.sources, fx.conf)
	if fx.apps != nil {
		text += "services = true\nprocesses = true\n"
	}
	if err := os.WriteFile(pconf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	agentConf := filepath.Join(a.dir, "agent.conf")
	text = fmt.Sprintf(`[agent]
  interval = "1s"
  round_interval = false
  flush_interval = "1s"
  flush_jitter = "0s"
  metric_buffer_limit = 100000
  hostname = %q
  omit_hostname = false
  logfile = ""
`, name)
	if err := os.WriteFile(agentConf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	if a.log, err = os.Create(filepath.Join(a.dir, "telegraf.log")); err != nil {
		t.Fatal(err)
	}
	// The project's own fragments, as a user installs them.
	a.cmd = exec.Command(telegraf,
		"--config", agentConf,
		"--config", filepath.Join(repo, "deploy", "telegraf", "inputs-powerinput.conf"),
		"--config", filepath.Join(repo, "deploy", "telegraf", "outputs-influxdb-pau.conf"))
	a.cmd.Env = append(os.Environ(),
		"POWERINPUT_BIN="+powerinput, "POWERINPUT_CONF="+pconf,
		"POWERINPUT_RESTART_DELAY=1s", "INFLUX_URL="+influxURL)
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	a.cmd.SysProcAttr = orphanless()
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start telegraf: %v", err)
	}
	t.Cleanup(func() { a.stop(); a.log.Close() })
	return a
}

func (a *agent) stop() {
	terminate(a.cmd, 20*time.Second) // SIGTERM: Telegraf flushes what it holds
	a.cmd = nil
}

// child returns the PID of the agent's powerinput process.
func (a *agent) child(t *testing.T) int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: the comm may hold spaces, so cut after ')'.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(a.cmd.Process.Pid) && strings.Contains(string(b), "(powerinput)") {
			return pid
		}
	}
	t.Fatalf("%s: no powerinput child of telegraf (pid %d)", a.name, a.cmd.Process.Pid)
	return 0
}

func (a *agent) logText() string {
	b, _ := os.ReadFile(a.log.Name())
	return string(b)
}

func countLines(text, substr string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if strings.Contains(sc.Text(), substr) {
			n++
		}
	}
	return n
}
