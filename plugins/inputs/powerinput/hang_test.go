package powerinput

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/kfile"
)

// hangTree is a machine with one RAPL package, CPU times and one network
// interface; its counters can be made to hang or to answer slowly through
// the opener seam, as a hung or slow mount does.
type hangTree struct {
	root  string
	delay time.Duration // how long each counter read takes
	hang  chan struct{} // closed: reads return; nil: no hang
}

func newHangTree(t *testing.T) *hangTree {
	t.Helper()
	h := &hangTree{root: t.TempDir()}
	files := map[string]string{
		"sys/class/powercap/intel-rapl:0/name":      "package-0\n",
		"sys/class/powercap/intel-rapl:0/energy_uj": "1000000\n",
		"sys/class/net/eth0/flags":                  "0x1003\n",
		"proc/stat":                                 "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n",
		"proc/net/dev":                              "Inter-|\n face |\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
	}
	for name, text := range files {
		p := filepath.Join(h.root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	return h
}

type slowFile struct {
	kfile.Reader
	h *hangTree
}

func (f slowFile) ReadAt(b []byte, off int64) (int, error) {
	if f.h.hang != nil {
		<-f.h.hang
	}
	time.Sleep(f.h.delay)
	return f.Reader.ReadAt(b, off)
}

func (h *hangTree) open(path string) (kfile.Reader, error) {
	f, err := kfile.OpenReader(path)
	if err != nil {
		return nil, err
	}
	return slowFile{f, h}, nil
}

func (h *hangTree) plugin(t *testing.T, extra string) (*PowerInput, *bytes.Buffer) {
	t.Helper()
	p, err := ParseConfig(fmt.Sprintf("[[inputs.powerinput]]\nhost_sys = %q\nhost_proc = %q\nvm_powercap_path = %q\nread_timeout = \"200ms\"\ndefault_metaphors = false\n%s",
		filepath.Join(h.root, "sys"), filepath.Join(h.root, "proc"), filepath.Join(h.root, "vm"), extra))
	require.NoError(t, err)
	var log bytes.Buffer
	p.Log = NewLineLogger(&log, telegraf.Info)
	p.open = h.open
	require.NoError(t, p.Init())
	return p, &log
}

func measurements(acc *testutil.Accumulator) map[string]int {
	out := map[string]int{}
	for _, m := range acc.GetTelegrafMetrics() {
		out[m.Name()]++
	}
	return out
}

// A power source whose reads hang does not take the time of the collectors
// after it: each has a deadline of its own, so the net points of that
// gather are written and nothing blames the network counters.
func TestHungSourceDoesNotStarveTheOthers(t *testing.T) {
	h := newHangTree(t)
	p, log := h.plugin(t, `sources = ["rapl", "model"]`)
	h.hang = make(chan struct{})
	defer close(h.hang)
	for i := 0; i < 4; i++ {
		acc := &testutil.Accumulator{}
		start := time.Now()
		require.NoError(t, p.Gather(acc))
		require.Less(t, time.Since(start), 2*time.Second)
		require.Equal(t, 1, measurements(acc)["net"], "gather %d: the net point", i)
	}
	require.NotContains(t, log.String(), "network counters")
	require.NotContains(t, log.String(), "CPU times")
}

// A share that answers each read a little after the deadline: the log says
// so once, not once per gather (the timeout and the "still busy" answers
// are one condition).
func TestSlowSourceIsSaidOnce(t *testing.T) {
	h := newHangTree(t)
	p, log := h.plugin(t, `sources = ["rapl"]`+"\nnet = false\ncpu = false")
	h.delay = 300 * time.Millisecond
	for i := 0; i < 12; i++ {
		require.NoError(t, p.Gather(&testutil.Accumulator{}))
		time.Sleep(100 * time.Millisecond)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		require.False(t, seen[l] && !strings.HasPrefix(l, "I! power source now"), "said twice: %q\nlog:\n%s", l, log)
		seen[l] = true
	}
	require.LessOrEqual(t, len(lines), 6, "log:\n%s", log)
}

// A FIFO in place of vm_powercap_path is refused at once, with a clear
// message, not taken for a hung mount.
func TestFIFOAsGuestDirectory(t *testing.T) {
	h := newHangTree(t)
	require.NoError(t, syscall.Mkfifo(filepath.Join(h.root, "vm"), 0o644))
	start := time.Now()
	p, log := h.plugin(t, `sources = ["vm", "model"]`)
	for i := 0; i < 2; i++ {
		require.NoError(t, p.Gather(&testutil.Accumulator{}))
	}
	require.Less(t, time.Since(start), 150*time.Millisecond, "nothing waited for a deadline")
	require.Contains(t, log.String(), "not a directory")
	require.NotContains(t, log.String(), "did not return in time")
}
