package powerinput

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/plugins/inputs"
	_ "github.com/influxdata/telegraf/plugins/inputs/cpu"
	telegrafnet "github.com/influxdata/telegraf/plugins/inputs/net"
	"github.com/influxdata/telegraf/testutil"

	"github.com/greencampus/powerinput/internal/source/rapl"
)

// procTree is a changing /proc and /sys fixture: snapshot k of /proc/stat
// and /proc/net/dev follows a fixed formula, so every gather sees new
// usage and traffic. cpu1 goes offline in snapshot 3 and comes back in 4.
type procTree struct{ root string }

func newProcTree(t testing.TB) *procTree {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"proc/net", "sys/class/net/eth0", "sys/class/net/lo", `sys/class/net/we,ird"=x`} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"sys/class/net/eth0/speed": "1000\n", "sys/class/net/eth0/type": "1\n",
		"sys/class/net/lo/type": "772\n", `sys/class/net/we,ird"=x/type`: "1\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &procTree{root: root}
}

func (p *procTree) write(t testing.TB, k int) {
	t.Helper()
	var stat strings.Builder
	cpus := []int{0, 1}
	if k == 3 {
		cpus = []int{0}
	}
	line := func(name string, scale int) {
		// user nice system idle iowait irq softirq steal guest guest_nice
		u := uint64(1000 + 37*k*k*scale)
		g := uint64(10 + 3*k*scale)
		fmt.Fprintf(&stat, "%s %d %d %d %d %d %d %d %d %d %d\n", name,
			u, 50+5*k*scale, 400+11*k*scale, 90000+(97+k)*k*scale, 30+2*k*scale, 7+k*scale, 9+k*scale, 4+k*scale, g, 1+k*scale/2)
	}
	line("cpu", 3) // the kernel sums every possible CPU: the total never shrinks
	for _, c := range cpus {
		line(fmt.Sprintf("cpu%d", c), 1+c)
	}
	stat.WriteString("intr 12345 0 0 0\nctxt 987654\nbtime 1700000000\nprocesses 4242\n")
	if err := os.WriteFile(filepath.Join(p.root, "proc", "stat"), []byte(stat.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var dev strings.Builder
	dev.WriteString("Inter-|   Receive                                                |  Transmit\n")
	dev.WriteString(" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
	for i, name := range []string{"lo", "eth0", `we,ird"=x`} {
		n := uint64((i + 1) * (k + 1))
		fmt.Fprintf(&dev, "%6s: %d %d %d %d 0 0 0 0 %d %d %d %d 0 0 0 0\n", name, 1000*n*n, 10*n, n/3, n/4, 700*n*n, 7*n, n/5, n/6)
	}
	if err := os.WriteFile(filepath.Join(p.root, "proc", "net", "dev"), []byte(dev.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (p *procTree) plugin(t testing.TB, interfaces []string) *PowerInput {
	t.Helper()
	pi := New()
	pi.HostSys = filepath.Join(p.root, "sys")
	pi.HostProc = filepath.Join(p.root, "proc")
	pi.Sources = []string{rapl.Name} // no power source here: cpu and net only
	pi.Interfaces = interfaces
	pi.Log = NewLineLogger(io.Discard, telegraf.Error) // no power source here: keep benchmarks' output clean
	if err := pi.Init(); err != nil {
		t.Fatal(err)
	}
	return pi
}

func telegrafInput(t testing.TB, name string, set func(telegraf.Input)) telegraf.Input {
	t.Helper()
	in := inputs.Inputs[name]()
	if set != nil {
		set(in)
	}
	if i, ok := in.(telegraf.Initializer); ok {
		if err := i.Init(); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

func onlyMeasurements(ms []telegraf.Metric, names ...string) []telegraf.Metric {
	var out []telegraf.Metric
	for _, m := range ms {
		for _, n := range names {
			if m.Name() == n {
				out = append(out, m)
			}
		}
	}
	return out
}

// TestDifferentialAgainstTelegraf gathers the same changing fixture with
// Telegraf v1.37.2's own cpu and net inputs and with powerinput, over five
// gathers, and requires the same metrics.
func TestDifferentialAgainstTelegraf(t *testing.T) {
	tree := newProcTree(t)
	t.Setenv("HOST_PROC", filepath.Join(tree.root, "proc"))
	t.Setenv("HOST_SYS", filepath.Join(tree.root, "sys"))
	globs := []string{"eth*", "we*"}

	ours := tree.plugin(t, globs)
	tcpu := telegrafInput(t, "cpu", nil)
	tnet := telegrafInput(t, "net", func(in telegraf.Input) { in.(*telegrafnet.Net).Interfaces = globs })

	var got, want testutil.Accumulator
	for k := 0; k < 5; k++ {
		tree.write(t, k)
		if err := ours.Gather(&got); err != nil {
			t.Fatal(err)
		}
		if err := tcpu.Gather(&want); err != nil {
			t.Fatal(err)
		}
		if err := tnet.Gather(&want); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	gotM := onlyMeasurements(got.GetTelegrafMetrics(), "cpu", "net")
	wantM := want.GetTelegrafMetrics()
	if len(wantM) < 20 {
		t.Fatalf("Telegraf gave only %d metrics; the fixture is not exercising it", len(wantM))
	}
	testutil.RequireMetricsEqual(t, wantM, gotM, testutil.IgnoreTime(), testutil.SortMetrics(), cmpopts.EquateApprox(0, 1e-9))
}

func TestDefaultInterfacesSkipLoopback(t *testing.T) {
	tree := newProcTree(t)
	tree.write(t, 1)
	p := tree.plugin(t, nil)
	var acc testutil.Accumulator
	if err := p.Gather(&acc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range onlyMeasurements(acc.GetTelegrafMetrics(), "net") {
		seen[m.Tags()["interface"]] = true
	}
	if seen["lo"] || !seen["eth0"] || !seen[`we,ird"=x`] {
		t.Fatalf("interfaces written: %v; want all but loopback", seen)
	}
}

// BenchmarkCPUNet compares one gather of cpu and net metrics by powerinput
// and by Telegraf's own inputs on the same fixture; the fixture changes
// between gathers (outside the timer) so that usage is computed each time.
func BenchmarkCPUNet(b *testing.B) {
	tree := newProcTree(b)
	b.Setenv("HOST_PROC", filepath.Join(tree.root, "proc"))
	b.Setenv("HOST_SYS", filepath.Join(tree.root, "sys"))
	globs := []string{"eth*", "we*"}
	run := func(b *testing.B, gather func(telegraf.Accumulator) error) {
		acc := testutil.Accumulator{Discard: true}
		tree.write(b, 0)
		if err := gather(&acc); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			tree.write(b, 1+i)
			b.StartTimer()
			if err := gather(&acc); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("powerinput", func(b *testing.B) {
		p := tree.plugin(b, globs)
		// The cpu and net part of Gather, without the power sources.
		run(b, func(acc telegraf.Accumulator) error {
			t := tick{ts: time.Now(), readTimeout: time.Duration(p.ReadTimeout)}
			p.cpu.gather(acc, &t)
			p.net.gather(acc, &t)
			return nil
		})
	})
	b.Run("telegraf", func(b *testing.B) {
		c := telegrafInput(b, "cpu", nil)
		n := telegrafInput(b, "net", func(in telegraf.Input) { in.(*telegrafnet.Net).Interfaces = globs })
		run(b, func(acc telegraf.Accumulator) error {
			if err := c.Gather(acc); err != nil {
				return err
			}
			return n.Gather(acc)
		})
	})
}
