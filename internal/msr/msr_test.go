package msr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/internal/kfile"
)

func TestEnergyUnit(t *testing.T) {
	tests := []struct {
		raw       uint64
		uj        float64
		rangeJ    float64 // where a 32-bit counter wraps
		wantErr   error
		countOf1J uint64
	}{
		// A Skylake-SP's 0x606: power 1/8 W, energy 2^-14 J, time 2^-10 s.
		{raw: 0x000a0e03, uj: 61.03515625, rangeJ: 262144},
		// An AMD EPYC's 0xC0010299: energy 2^-16 J.
		{raw: 0x000a1003, uj: 15.2587890625, rangeJ: 65536},
		// Silvermont: 2^-5 J.
		{raw: 0x00000505, uj: 31250, rangeJ: 134217728},
		{raw: 0, wantErr: ErrNoRAPL},
		{raw: 0xffff_ffff_ffff_e0ff, wantErr: ErrNoRAPL}, // bits 12:8 clear
	}
	for _, tt := range tests {
		u, err := EnergyUnit(tt.raw)
		if tt.wantErr != nil {
			require.ErrorIs(t, err, tt.wantErr, "EnergyUnit(%#x)", tt.raw)
			continue
		}
		require.NoError(t, err)
		require.InDelta(t, tt.uj, u.Microjoules(), 1e-9, "EnergyUnit(%#x)", tt.raw)
		require.InDelta(t, tt.rangeJ, u.Range().Joules(), 1e-6, "range of %#x", tt.raw)
	}
}

func TestUnitEnergy(t *testing.T) {
	esu14 := Unit{1_000_000, 1 << 14}
	// 16384 counts of 2^-14 J are one joule exactly.
	require.Equal(t, energy.Joule, esu14.Energy(16384))
	// Rounded down to the microjoule: one count is 61 µJ.
	require.Equal(t, energy.Energy(61), esu14.Energy(1))
	// The reserved upper half is not part of the count.
	require.Equal(t, energy.Joule, esu14.Energy(0xdead_0000_0000_4000))
	// The DRAM of Haswell-to-Ice-Lake servers: 15.3 µJ. The counter wraps
	// after 2^32 counts; powercap's max_energy_range_uj (65712999613) is
	// the highest value, one count less.
	require.Equal(t, energy.Energy(65712999628), dramServerUnit.Range())
	require.Equal(t, energy.Energy(65712999613), dramServerUnit.Energy(0xffff_ffff))
	require.Equal(t, energy.Energy(153), dramServerUnit.Energy(10))
	require.Equal(t, energy.Energy(0), Unit{}.Energy(5))
	require.Equal(t, energy.Energy(0), Unit{}.Range())
	// Every value of a 32-bit counter converts without overflow, and the
	// conversion never decreases.
	require.Less(t, esu14.Energy(0xffff_ffff), esu14.Range())
	require.Less(t, jouleUnit.Energy(0xffff_ffff), jouleUnit.Range())
}

func TestTDP(t *testing.T) {
	// Thermal spec power 1200 eighths of a watt: 150 W.
	require.Equal(t, energy.Power(150), TDP(0x0000_04b0, 0x000a0e03))
	require.Equal(t, energy.Power(0), TDP(0, 0x000a0e03))
	// Bits above 14 belong to other fields.
	require.Equal(t, energy.Power(150), TDP(0x1234_0000_0000_84b0, 0x000a0e03))
}

func TestLayoutOf(t *testing.T) {
	l, err := LayoutOf(ID{Vendor: Intel, Family: 6, Model: 0x55})
	require.NoError(t, err)
	require.Equal(t, IntelPkgEnergy, l.Package)
	require.Equal(t, IntelDRAMEnergy, l.DRAM)
	require.Equal(t, dramServerUnit, l.DRAMUnit, "Skylake-X counts DRAM in 15.3 µJ")
	require.Equal(t, Unit{}, l.PlatformUnit)

	l, err = LayoutOf(ID{Vendor: Intel, Family: 6, Model: 0x8F})
	require.NoError(t, err)
	require.Equal(t, Unit{}, l.DRAMUnit, "Sapphire Rapids uses the unit register for DRAM")
	require.Equal(t, jouleUnit, l.PlatformUnit)

	l, err = LayoutOf(ID{Vendor: Intel, Family: 6, Model: 0x9A})
	require.NoError(t, err)
	require.Equal(t, Unit{}, l.DRAMUnit)

	l, err = LayoutOf(ID{Vendor: AMD, Family: 0x19, Model: 0x11})
	require.NoError(t, err)
	require.Equal(t, AMDPowerUnit, l.Unit)
	require.Equal(t, AMDPkgEnergy, l.Package)
	require.Zero(t, l.DRAM)
	require.Zero(t, l.PowerInfo)

	_, err = LayoutOf(ID{Vendor: AMD, Family: 0x15})
	require.ErrorIs(t, err, ErrUnsupported)
	_, err = LayoutOf(ID{})
	require.ErrorIs(t, err, ErrUnsupported)
}

const xeonCPUInfo = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\nflags\t\t: fpu msr\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\n"

func TestParseCPUInfo(t *testing.T) {
	tests := []struct {
		in      string
		want    ID
		wantErr bool
	}{
		{in: xeonCPUInfo, want: ID{Intel, 6, 85}},
		{in: "vendor_id : AuthenticAMD\ncpu family : 25\nmodel : 17\n", want: ID{AMD, 0x19, 0x11}},
		{in: "vendor_id\t: HygonGenuine\ncpu family\t: 24\nmodel\t\t: 0\n", want: ID{AMD, 0x18, 0}},
		{in: "vendor_id\t: CentaurHauls\ncpu family\t: 6\n", want: ID{Vendor: OtherVendor, Family: 6}},
		{in: "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n", wantErr: true}, // arm64
		{in: "", wantErr: true},
		{in: "vendor_id\t: GenuineIntel\ncpu family\t: six\nmodel\t: 85\n", wantErr: true},
		{in: "vendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t: -1\n", wantErr: true},
		{in: "vendor_id\t: GenuineIntel\ncpu family\t: 6\n", wantErr: true},
		{in: "vendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t: 99999999\n", wantErr: true},
		// The first processor's block only: the second's lines are ignored.
		{in: "vendor_id: GenuineIntel\ncpu family: 6\nmodel: 143\n\nvendor_id: AuthenticAMD\n", want: ID{Intel, 6, 143}},
	}
	for _, tt := range tests {
		got, err := ParseCPUInfo([]byte(tt.in))
		if tt.wantErr {
			require.ErrorIs(t, err, ErrCPUInfo, "ParseCPUInfo(%q)", tt.in)
			continue
		}
		require.NoError(t, err, "ParseCPUInfo(%q)", tt.in)
		require.Equal(t, tt.want, got, "ParseCPUInfo(%q)", tt.in)
	}
}

func FuzzParseCPUInfo(f *testing.F) {
	for _, b := range fixtures.Files("cpuinfo") {
		f.Add(b)
	}
	f.Add([]byte(xeonCPUInfo))
	f.Add([]byte("vendor_id:GenuineIntel\ncpu family:6\nmodel:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParseCPUInfo(b)
		if err != nil {
			if !errors.Is(err, ErrCPUInfo) {
				t.Fatalf("error %v does not wrap ErrCPUInfo", err)
			}
			if v := bytes.TrimSpace(b); len(v) > 12 && strings.Contains(err.Error(), string(v)) {
				t.Fatalf("error %q holds the input", err)
			}
			return
		}
		if id.Family < 0 || id.Family > 0xffff || id.Model < 0 || id.Model > 0xffff {
			t.Fatalf("ParseCPUInfo(%q) = %v", b, id)
		}
		if id.Vendor != OtherVendor && !bytes.Contains(b, []byte("Genuine")) && !bytes.Contains(b, []byte("AuthenticAMD")) {
			t.Fatalf("ParseCPUInfo(%q) = %v from no known vendor", b, id)
		}
	})
}

// stepValues are the values the scenarios write into MSR files (steps
// lines "msr PATH ADDR VALUE"), by register address.
func stepValues() map[int64][]uint64 {
	out := map[int64][]uint64{}
	for _, steps := range fixtures.Files("steps") {
		for _, line := range strings.Split(string(steps), "\n") {
			f := strings.Fields(line)
			if len(f) != 4 || f[0] != "msr" {
				continue
			}
			addr, err1 := strconv.ParseInt(f[2], 0, 64)
			v, err2 := strconv.ParseUint(f[3], 0, 64)
			if err1 == nil && err2 == nil {
				out[addr] = append(out[addr], v)
			}
		}
	}
	return out
}

func FuzzEnergyUnit(f *testing.F) {
	vals := stepValues()
	for _, v := range append(vals[IntelPowerUnit], vals[AMDPowerUnit]...) {
		f.Add(v, uint64(0))
	}
	for _, v := range vals[IntelPkgEnergy] {
		f.Add(uint64(0xa0e03), v)
	}
	f.Add(uint64(0), uint64(0))
	f.Add(uint64(0xa1003), uint64(0xffff_ffff))
	f.Fuzz(func(t *testing.T, unitRaw, count uint64) {
		u, err := EnergyUnit(unitRaw)
		if err != nil {
			if !errors.Is(err, ErrNoRAPL) {
				t.Fatalf("EnergyUnit(%#x): %v", unitRaw, err)
			}
			return
		}
		e := u.Energy(count)
		if e >= u.Range() {
			t.Fatalf("unit %#x: %#x counts = %d µJ, not below the range %d", unitRaw, count, e, u.Range())
		}
		if count&0xffff_ffff < 0xffff_ffff && u.Energy(count+1) < e {
			t.Fatalf("unit %#x: energy decreases at %#x", unitRaw, count)
		}
		_ = TDP(count, unitRaw) // never panics
	})
}

func writeMSR(t testing.TB, path string, addr int64, v uint64) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	require.NoError(t, err)
	defer f.Close()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	_, err = f.WriteAt(b[:], addr)
	require.NoError(t, err)
}

func TestDeviceAndCounter(t *testing.T) {
	dev := kfile.DevRoot(t.TempDir())
	path := Path(dev, 0)
	writeMSR(t, path, IntelPowerUnit, 0xa0e03)
	writeMSR(t, path, IntelPkgEnergy, 0xffff_0000_0000_4000)
	// A sparse file: AMD's registers sit above 3 GB.
	writeMSR(t, path, AMDPkgEnergy, 0x8000)

	// A regular file stands in for the device: the registers written are
	// 8 bytes apart or more, so pread at their addresses reads them back.
	d, err := Open(dev, 0, kfile.OpenReader)
	require.NoError(t, err)
	v, err := d.Read(IntelPowerUnit)
	require.NoError(t, err)
	require.Equal(t, uint64(0xa0e03), v)

	u, err := EnergyUnit(v)
	require.NoError(t, err)
	c := Counter{Dev: d, Addr: IntelPkgEnergy, Unit: u}
	e, err := c.Read()
	require.NoError(t, err)
	require.Equal(t, energy.Joule, e)

	v, err = d.Read(AMDPkgEnergy)
	require.NoError(t, err)
	require.Equal(t, uint64(0x8000), v)

	// Past the end of the file: a register the CPU does not have.
	_, err = d.Read(AMDPkgEnergy + 8)
	require.ErrorIs(t, err, ErrNoRegister)
	// Inside the file but short of 8 bytes.
	_, err = d.Read(AMDPkgEnergy + 4)
	require.ErrorIs(t, err, kfile.ErrSyntax)

	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "closing twice is harmless")
	_, err = d.Read(IntelPowerUnit)
	require.Error(t, err)

	_, err = Open(dev, 7, kfile.OpenReader)
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = Open(dev, 0, kfile.DeviceOpener(Major))
	require.ErrorIs(t, err, kfile.ErrWrongDevice, "a regular file is not the msr driver's device")
	require.True(t, HasDevices(dev))
	require.False(t, HasDevices(kfile.DevRoot(t.TempDir())))
}

func topology(t *testing.T, cpus map[int][3]int) string {
	t.Helper()
	root := t.TempDir()
	for cpu, v := range cpus { // v: package, die, online (0 or 1; 2: no online file)
		base := filepath.Join(root, "devices", "system", "cpu", "cpu"+strconv.Itoa(cpu))
		require.NoError(t, os.MkdirAll(filepath.Join(base, "topology"), 0o755))
		if v[2] != 2 {
			require.NoError(t, os.WriteFile(filepath.Join(base, "online"), []byte(strconv.Itoa(v[2])+"\n"), 0o644))
		}
		if v[2] == 0 {
			continue // an offline CPU has no topology
		}
		require.NoError(t, os.WriteFile(filepath.Join(base, "topology", "physical_package_id"), []byte(strconv.Itoa(v[0])+"\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(base, "topology", "die_id"), []byte(strconv.Itoa(v[1])+"\n"), 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(root, "devices", "system", "cpu", "cpufreq"), 0o755))
	return root
}

func TestLeads(t *testing.T) {
	// Two packages; CPU 2 (package 1's lowest) is offline, so CPU 3 reads it.
	root := topology(t, map[int][3]int{0: {0, 0, 2}, 1: {0, 0, 1}, 2: {1, 0, 0}, 3: {1, 0, 1}, 10: {1, 0, 1}})
	leads, err := Leads(kfile.SysRoot(root), true)
	require.NoError(t, err)
	require.Equal(t, []Lead{{CPU: 0, Package: 0, Die: NoDie}, {CPU: 3, Package: 1, Die: NoDie}}, leads)

	// One package of two dies: per die where asked, whole otherwise.
	root = topology(t, map[int][3]int{0: {0, 0, 2}, 1: {0, 1, 1}, 2: {0, 0, 1}, 3: {0, 1, 1}})
	leads, err = Leads(kfile.SysRoot(root), true)
	require.NoError(t, err)
	require.Equal(t, []Lead{{CPU: 0, Package: 0, Die: 0}, {CPU: 1, Package: 0, Die: 1}}, leads)
	leads, err = Leads(kfile.SysRoot(root), false)
	require.NoError(t, err)
	require.Equal(t, []Lead{{CPU: 0, Package: 0, Die: NoDie}}, leads)

	_, err = Leads(kfile.SysRoot(t.TempDir()), true)
	require.ErrorIs(t, err, ErrNoTopology)
}
