package powerinput

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/parsers/influx"
	influxser "github.com/influxdata/telegraf/plugins/serializers/influx"
	"github.com/influxdata/telegraf/testutil"
	"golang.org/x/tools/txtar"

	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/internal/kfile"
)

// A scenario is a testdata/scenarios/*.txtar archive:
//
//	comment            what the scenario shows
//	config.toml        the [[inputs.powerinput]] options (host_sys, host_proc,
//	                   host_dev and vm_powercap_path point into the unpacked
//	                   tree; $ROOT is the tree's root, as in vm_counter_dir)
//	sys/…, proc/…, vm/…, dev/… the trees; a file named cmdline holds one
//	                   argument a line (unpacked with NUL bytes between them)
//	steps              a script, one command a line:
//	                     set PATH VALUE   write VALUE to PATH in the tree
//	                     empty PATH       make PATH empty (a writer that
//	                                      truncates, then writes)
//	                     deny PATH        opening PATH fails with EACCES
//	                     allow PATH       undo deny
//	                     copy SRC DST     replace DST by the archive's SRC
//	                     remove PATH      delete PATH and what is under it
//	                     line PATH TEXT…  write the rest of the line and a
//	                                      newline to PATH, making its folders
//	                                      (a cgroup's cpu.stat, a process's
//	                                      stat)
//	                     mkdir PATH       make a folder (a VM's vcpu0 group)
//	                     symlink PATH TO  make PATH a link to $ROOT/TO
//	                     expect PATH TEXT PATH must hold TEXT (trailing spaces
//	                                      and newline aside): a guest counter
//	                     absent PATH      PATH must not exist
//	                     msr PATH ADDR VALUE
//	                                      set register ADDR of the MSR device
//	                                      file PATH (dev/cpu/N/msr) to VALUE,
//	                                      creating the file (numbers as Go
//	                                      writes them: 0x611, 123456)
//	                     usage GROUP USEC write a cgroup v2 cpu.stat with
//	                                      usage_usec USEC at
//	                                      sys/fs/cgroup/GROUP (written as
//	                                      the kernel lists it: \x2d stays);
//	                                      a slice's usage holds its
//	                                      children's: where a slice has a
//	                                      cpu.stat, move it with them (an
//	                                      idle slice is not looked into)
//	                     proc PID COMM TICKS START [kernel]
//	                                      write proc/PID/stat as the kernel
//	                                      does: utime TICKS, stime 0,
//	                                      starttime START, a kernel thread
//	                                      with "kernel" (COMM without
//	                                      spaces)
//	                     tick DURATION    move the monotonic clock on
//	                     start            Init, then Start (the baseline),
//	                                      as Telegraf and powerinput's own
//	                                      loop start the plugin
//	                     gather           tick 10s, then Gather; the first
//	                                      one, without a start before it,
//	                                      ticks 10s and starts the plugin
//	                                      instead
//	                     gather now       Gather without a tick (its wait
//	                                      for MinFirstInterval moves the
//	                                      clock)
//	expected.out       every metric of every gather, as line protocol
//	                   (compared by meaning: order and time ignored)
//	expected.log       lines each of which must occur exactly once in the
//	                   log, as a prefix ("W! /…/energy_uj went backwards");
//	                   "N* line" for exactly N times. Whatever the file
//	                   says, no log line may repeat unless a "N*" entry
//	                   allows it: each condition is said once.
//
// SCENARIO_LOG=1 go test -v -run TestScenarios/NAME prints a scenario's log.
//
// The msr driver answers a pread of 8 bytes at offset ADDR with register
// ADDR, and registers 3 apart (0x611, 0x614) do not overlap. A regular file
// cannot do that, so a scenario's MSR file holds register ADDR in the 8
// bytes at offset 8×ADDR (a sparse file: AMD's registers, near 0xC0010000,
// cost nothing), and the scenario's device opener turns the plugin's pread
// at ADDR into one at 8×ADDR.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			runScenario(t, file)
		})
	}
}

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

// denyOpener fails to open the paths in denied, as the kernel does for a
// non-root reader of energy_uj since Linux 5.10. The files it opens behave
// like sysfs attributes: once removed, reading an open one fails with
// ENODEV (a regular file would stay readable).
type denyOpener struct{ denied map[string]bool }

func (d *denyOpener) open(path string) (kfile.Reader, error) {
	if d.denied[path] {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrPermission}
	}
	f, err := kfile.Open(path)
	if err != nil {
		return nil, err
	}
	return sysfsFile{f}, nil
}

// openDev opens a scenario's MSR files (regular files with register ADDR
// at offset 8×ADDR) where the plugin opens /dev/cpu/N/msr.
func (d *denyOpener) openDev(path string) (kfile.Reader, error) {
	if d.denied[path] {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrPermission}
	}
	f, err := kfile.Open(path)
	if err != nil {
		return nil, err
	}
	return registerFile{sysfsFile{f}}, nil
}

// registerFile reads register ADDR of a scenario's MSR file.
type registerFile struct{ sysfsFile }

func (f registerFile) ReadAt(b []byte, addr int64) (int, error) {
	if len(b) != 8 {
		return 0, &fs.PathError{Op: "read", Path: f.Path(), Err: syscall.EINVAL} // as the msr driver
	}
	return f.sysfsFile.ReadAt(b, addr*8)
}

type sysfsFile struct{ *kfile.File }

func (f sysfsFile) ReadAt(b []byte, off int64) (int, error) {
	if _, err := os.Stat(f.Path()); err != nil {
		return 0, &fs.PathError{Op: "read", Path: f.Path(), Err: syscall.ENODEV}
	}
	return f.File.ReadAt(b, off)
}

type scenario struct {
	root     string
	plugin   *PowerInput
	clock    *fakeClock
	deny     *denyOpener
	acc      *testutil.Accumulator
	log      *bytes.Buffer
	steps    string
	expected []telegraf.Metric
	wantLog  []string
	started  bool // Init has run
	begun    bool // Start has run
}

func loadScenario(t testing.TB, file string) *scenario {
	t.Helper()
	return loadScenarioIn(t, file, t.TempDir())
}

// loadScenarioIn unpacks the scenario's trees under root.
func loadScenarioIn(t testing.TB, file, root string) *scenario {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := &scenario{root: root, clock: &fakeClock{now: time.Unix(1_700_000_000, 0)}, deny: &denyOpener{denied: map[string]bool{}}, acc: &testutil.Accumulator{}, log: &bytes.Buffer{}}
	config := ""
	for _, d := range []string{"sys", "proc"} {
		if err := os.MkdirAll(filepath.Join(s.root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range ar.Files {
		switch f.Name {
		case "config.toml":
			config = string(f.Data)
		case "steps":
			s.steps = string(f.Data)
		case "expected.out":
			parser := &influx.Parser{}
			if err := parser.Init(); err != nil {
				t.Fatal(err)
			}
			s.expected, err = parser.Parse(f.Data)
			if err != nil {
				t.Fatalf("expected.out: %v", err)
			}
		case "expected.log":
			for _, l := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
				if l != "" {
					s.wantLog = append(s.wantLog, strings.ReplaceAll(l, "$ROOT", s.root))
				}
			}
		}
		if filepath.Base(f.Name) == "cmdline" {
			// /proc/<pid>/cmdline separates arguments with NUL bytes,
			// which an archive writes as newlines.
			ar.Files[i].Data = bytes.ReplaceAll(f.Data, []byte("\n"), []byte{0})
		}
	}
	tree := func(name string) bool {
		switch name {
		case "config.toml", "steps", "expected.out", "expected.log", "doctor.golden":
			return false
		}
		return true
	}
	if err := fixtures.Unpack(ar, s.root, tree); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf("[[inputs.powerinput]]\nhost_sys = %q\nhost_proc = %q\nhost_dev = %q\nhost_etc = %q\nvm_powercap_path = %q\n%s",
		filepath.Join(s.root, "sys"), filepath.Join(s.root, "proc"), filepath.Join(s.root, "dev"), filepath.Join(s.root, "etc"), filepath.Join(s.root, "vm"), strings.ReplaceAll(config, "$ROOT", s.root))
	p, err := ParseConfig(text)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	p.Log = NewLineLogger(s.log, telegraf.Debug)
	p.clock = s.clock.Now
	p.sleep = func(d time.Duration) { s.clock.now = s.clock.now.Add(d) }
	p.open = s.deny.open
	p.openDev = s.deny.openDev
	s.plugin = p
	return s
}

// start runs Init: the plugin starts on the machine as the steps before
// the first gather left it.
func (s *scenario) start(t testing.TB) {
	t.Helper()
	if s.started {
		return
	}
	s.started = true
	if err := s.plugin.Init(); err != nil {
		t.Fatalf("Init: %v", err)
	}
}

// begin starts the plugin as Telegraf does: Init, then Start, which takes
// the baseline.
func (s *scenario) begin(t testing.TB) {
	t.Helper()
	if s.begun {
		t.Fatalf("the plugin is started twice")
	}
	s.start(t)
	s.begun = true
	if err := s.plugin.Start(s.acc); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

// run executes the steps script.
func (s *scenario) run(t testing.TB) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(s.steps))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch {
		case f[0] == "start" && len(f) == 1:
			s.begin(t)
		case f[0] == "gather" && len(f) == 1 && !s.begun:
			s.clock.now = s.clock.now.Add(10 * time.Second)
			s.begin(t)
		case f[0] == "gather" && (len(f) == 1 || len(f) == 2 && f[1] == "now"):
			if len(f) == 1 {
				s.clock.now = s.clock.now.Add(10 * time.Second)
			}
			if err := s.plugin.Gather(s.acc); err != nil {
				t.Fatalf("steps:%d: Gather: %v", n, err)
			}
		case f[0] == "tick" && len(f) == 2:
			d, err := time.ParseDuration(f[1])
			if err != nil {
				t.Fatalf("steps:%d: %v", n, err)
			}
			s.clock.now = s.clock.now.Add(d)
		case f[0] == "set" && len(f) == 3:
			// Rewrite in place, as sysfs changes under an open file.
			if err := os.WriteFile(filepath.Join(s.root, f[1]), []byte(f[2]+"\n"), 0o644); err != nil {
				t.Fatalf("steps:%d: %v", n, err)
			}
		case f[0] == "empty" && len(f) == 2:
			if err := os.WriteFile(filepath.Join(s.root, f[1]), nil, 0o644); err != nil {
				t.Fatalf("steps:%d: %v", n, err)
			}
		case f[0] == "copy" && len(f) == 3:
			b, err := os.ReadFile(filepath.Join(s.root, f[1]))
			if err == nil {
				err = os.MkdirAll(filepath.Dir(filepath.Join(s.root, f[2])), 0o755)
			}
			if err == nil {
				err = os.WriteFile(filepath.Join(s.root, f[2]), b, 0o644)
			}
			if err != nil {
				t.Fatalf("steps:%d: %v", n, err)
			}
		case f[0] == "remove" && len(f) == 2:
			if err := os.RemoveAll(filepath.Join(s.root, f[1])); err != nil {
				t.Fatalf("steps:%d: %v", n, err)
			}
		case f[0] == "usage" && len(f) == 3:
			text := fmt.Sprintf("usage_usec %s\nuser_usec %s\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n", f[2], f[2])
			if err := writeTree(filepath.Join(s.root, "sys", "fs", "cgroup", f[1], "cpu.stat"), text); err != nil {
				t.Fatalf("steps:%d: %v", n, err)
			}
		case f[0] == "proc" && (len(f) == 5 || len(f) == 6 && f[5] == "kernel"):
			flags := 0x400100
			if len(f) == 6 {
				flags |= 0x00200000 // PF_KTHREAD
			}
			text := fmt.Sprintf("%s (%s) S 1 %s %s 0 -1 %d 100 0 0 0 %s 0 0 0 20 0 1 0 %s 10000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
				f[1], f[2], f[1], f[1], flags, f[3], f[4])
			if err := writeTree(filepath.Join(s.root, "proc", f[1], "stat"), text); err != nil {
				t.Fatalf("steps:%d: %v", n, err)
			}
		case f[0] == "line" && len(f) >= 3:
			// The text is the line after its second field, spaces kept.
			text := strings.TrimLeft(sc.Text(), " \t")
			text = strings.TrimLeft(text[len(f[0]):], " \t")
			text = strings.TrimLeft(text[len(f[1]):], " \t")
			path := filepath.Join(s.root, f[1])
			err := os.MkdirAll(filepath.Dir(path), 0o755)
			if err == nil {
				err = os.WriteFile(path, []byte(text+"\n"), 0o644)
			}
			if err != nil {
				t.Fatalf("steps:%d: %v", n, err)
			}
		case f[0] == "mkdir" && len(f) == 2:
			if err := os.MkdirAll(filepath.Join(s.root, f[1]), 0o755); err != nil {
				t.Fatalf("steps:%d: %v", n, err)
			}
		case f[0] == "symlink" && len(f) == 3:
			if err := os.Symlink(filepath.Join(s.root, f[2]), filepath.Join(s.root, f[1])); err != nil {
				t.Fatalf("steps:%d: %v", n, err)
			}
		case f[0] == "expect" && len(f) == 3:
			b, err := os.ReadFile(filepath.Join(s.root, f[1]))
			if err != nil {
				t.Errorf("steps:%d: %v", n, err)
			} else if got := strings.TrimRight(string(b), " \n"); got != f[2] {
				t.Errorf("steps:%d: %s holds %q, want %q", n, f[1], got, f[2])
			}
		case f[0] == "absent" && len(f) == 2:
			if _, err := os.Lstat(filepath.Join(s.root, f[1])); err == nil {
				t.Errorf("steps:%d: %s exists", n, f[1])
			}
		case f[0] == "msr" && len(f) == 4:
			if err := writeRegister(filepath.Join(s.root, f[1]), f[2], f[3]); err != nil {
				t.Fatalf("steps:%d: %v", n, err)
			}
		case f[0] == "deny" && len(f) == 2:
			s.deny.denied[filepath.Join(s.root, f[1])] = true
		case f[0] == "allow" && len(f) == 2:
			delete(s.deny.denied, filepath.Join(s.root, f[1]))
		default:
			t.Fatalf("steps:%d: cannot read %q", n, sc.Text())
		}
	}
	s.start(t)
}

func runScenario(t *testing.T, file string) {
	s := loadScenario(t, file)
	defer func() {
		if t.Failed() || os.Getenv("SCENARIO_LOG") != "" {
			t.Logf("log:\n%s", s.log.String())
		}
	}()
	s.run(t)
	testutil.RequireMetricsEqual(t, s.expected, asWritten(t, s.acc.GetTelegrafMetrics()),
		testutil.IgnoreTime(), testutil.SortMetrics(), testutil.IgnoreType(), cmpopts.EquateApprox(0, 1e-9))
	logLines := strings.Split(strings.TrimSpace(s.log.String()), "\n")
	repeatable := map[string]bool{}
	for _, want := range s.wantLog {
		count := 1
		if c, rest, ok := strings.Cut(want, "* "); ok && len(c) == 1 && c[0] >= '0' && c[0] <= '9' {
			count, want = int(c[0]-'0'), rest
		}
		n := 0
		for _, l := range logLines {
			if strings.HasPrefix(l, want) {
				n++
				if count > 1 {
					repeatable[l] = true
				}
			}
		}
		if n != count {
			t.Errorf("log has %d lines starting %q, want %d", n, want, count)
		}
	}
	seen := map[string]int{}
	for _, l := range logLines {
		seen[l]++
		for _, secret := range []string{"S3cr3t", "$6$"} {
			if strings.Contains(l, secret) {
				t.Errorf("log line holds a file's content (%q): %q", secret, l)
			}
		}
	}
	for l, n := range seen {
		if n > 1 && !repeatable[l] && !strings.HasPrefix(l, "I! power source now:") {
			t.Errorf("log line said %d times, want once per condition: %q", n, l)
		}
	}
}

// writeTree writes a file of a tree, making its directories.
func writeTree(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// writeRegister sets register addr of a scenario's MSR file to value.
func writeRegister(path, addr, value string) error {
	a, err := strconv.ParseInt(addr, 0, 64)
	if err != nil {
		return err
	}
	v, err := strconv.ParseUint(value, 0, 64)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	if _, err := f.WriteAt(b[:], 8*a); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// asWritten returns metrics as they reach Telegraf: serialized by the
// shim's serializer (influx, defaults: no unsigned integers) and parsed
// back, so a uint64 counter compares as the integer InfluxDB stores.
func asWritten(t *testing.T, ms []telegraf.Metric) []telegraf.Metric {
	t.Helper()
	ser := &influxser.Serializer{}
	if err := ser.Init(); err != nil {
		t.Fatal(err)
	}
	b, err := ser.SerializeBatch(ms)
	if err != nil {
		t.Fatal(err)
	}
	parser := &influx.Parser{}
	if err := parser.Init(); err != nil {
		t.Fatal(err)
	}
	out, err := parser.Parse(b)
	if err != nil {
		t.Fatalf("parsing what was written: %v\n%s", err, b)
	}
	return out
}
