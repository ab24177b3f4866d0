package powerinput

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/influxdata/telegraf/testutil"

	"github.com/greencampus/powerinput/internal/kfile"
)

// counterFiles opens files of a scenario's tree for writing in place.
func counterFiles(b *testing.B, s *scenario, rel ...string) []*os.File {
	b.Helper()
	var out []*os.File
	for _, r := range rel {
		f, err := os.OpenFile(filepath.Join(s.root, r), os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		out = append(out, f)
	}
	return out
}

// putDecimal writes v as 20 digits and a newline at offset 0, as the
// kernel rewrites an attribute, without allocating.
func putDecimal(b *testing.B, f *os.File, buf *[21]byte, v uint64) {
	buf[20] = '\n'
	for i := 19; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	if _, err := f.WriteAt(buf[:], 0); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSampleMSR is the msr source's part of a gather: two packages
// with DRAM, four registers read with one pread each through two device
// files kept open, and judged. The chain holds msr alone (with rapl first,
// each gather would also probe powercap again, as on any machine without
// it), and the device files are read as the plugin reads /dev/cpu/N/msr,
// without the scenarios' check for removed files. Advancing the fixture
// (four pwrites) is included.
func BenchmarkSampleMSR(b *testing.B) {
	s := loadScenario(b, filepath.Join("testdata", "scenarios", "msr-intel.txtar"))
	s.plugin.Log = testutil.Logger{Quiet: true}
	s.plugin.Sources = []string{"msr"}
	s.plugin.openDev = func(path string) (kfile.Reader, error) {
		f, err := kfile.Open(path)
		if err != nil {
			return nil, err
		}
		return registers{f}, nil
	}
	s.steps = s.steps[:strings.Index(s.steps, "gather")] // the registers, then Init
	s.run(b)
	files := counterFiles(b, s, "dev/cpu/0/msr", "dev/cpu/2/msr")
	count := uint64(300_000_000)
	var reg [8]byte
	advance := func() {
		count += 1_000_000
		binary.LittleEndian.PutUint64(reg[:], count&0xffff_ffff)
		for _, f := range files {
			for _, addr := range []int64{0x611, 0x619} {
				if _, err := f.WriteAt(reg[:], 8*addr); err != nil { // a scenario's layout
					b.Fatal(err)
				}
			}
		}
		s.clock.now = s.clock.now.Add(10 * time.Second)
	}
	chain := s.plugin.power.chain
	advance()
	chain.Sample()
	b.ReportAllocs()
	for b.Loop() {
		advance()
		if r, ok := chain.Sample(); !ok || r.Source.Name() != "msr" || !r.Result.Complete {
			b.Fatalf("sample failed: %+v", r.Result)
		}
	}
}

// registers reads register ADDR of a scenario's MSR file at 8×ADDR.
type registers struct{ *kfile.File }

func (r registers) ReadAt(b []byte, addr int64) (int, error) { return r.File.ReadAt(b, 8*addr) }

// BenchmarkGatherWallGPU is a whole Gather of power (cpu and net off) on a
// GPU server with a wall meter: RAPL's four counters, the amdgpu and the
// power meter beside them, power_host with the GPU, the wall and the
// coverage, power_gpu and power_platform. Compare BenchmarkGatherPower,
// the same without the sensors.
func BenchmarkGatherWallGPU(b *testing.B) {
	s := loadScenario(b, filepath.Join("testdata", "scenarios", "rapl-vs-wall-gpu.txtar"))
	s.plugin.Log = testutil.Logger{Quiet: true}
	s.plugin.open = kfile.OpenReader // the real opener, not the scenarios' sysfs imitation
	s.start(b)
	files := counterFiles(b, s,
		"sys/class/powercap/intel-rapl:0/energy_uj", "sys/class/powercap/intel-rapl:0:0/energy_uj",
		"sys/class/powercap/intel-rapl:1/energy_uj", "sys/class/powercap/intel-rapl:1:0/energy_uj")
	var buf [21]byte
	value := uint64(3_000_000_000)
	advance := func() {
		value += 100_000_000
		for _, f := range files {
			putDecimal(b, f, &buf, value)
		}
		s.clock.now = s.clock.now.Add(10 * time.Second)
	}
	p := s.plugin
	acc := &testutil.Accumulator{Discard: true}
	advance()
	p.Gather(acc)
	b.ReportAllocs()
	for b.Loop() {
		advance()
		p.Gather(acc)
	}
	acc.Discard = false
	advance()
	p.Gather(acc)
	if got := acc.GetTelegrafMetrics(); len(got) != 5 || got[4].Fields()["coverage"] == nil {
		b.Fatalf("last gather wrote %v", got)
	}
}
