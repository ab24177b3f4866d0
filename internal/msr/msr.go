// Package msr reads the RAPL energy registers of Intel and AMD CPUs
// directly, through the msr driver's device files (/dev/cpu/N/msr), for
// machines whose kernel lacks the powercap driver (intel_rapl) or has it
// disabled. Reading them needs the msr module loaded, read access to the
// device files and the CAP_SYS_RAWIO capability.
//
// A register is read with one pread of 8 bytes at the register's address.
// The package knows the registers' addresses and units, which CPU reads
// which package, and nothing of Telegraf: the msr power source builds on
// it, and so does the psys platform reading where powercap is missing.
package msr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"syscall"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/kfile"
)

// Major is the device major number of the msr driver.
const Major = 202

// Register addresses: Intel's from its Software Developer's Manual
// (volume 4), AMD's from the Processor Programming Reference of family
// 17h and later (Hygon's family 18h shares them).
const (
	IntelPowerUnit      int64 = 0x606 // MSR_RAPL_POWER_UNIT
	IntelPkgEnergy      int64 = 0x611 // MSR_PKG_ENERGY_STATUS
	IntelPkgPowerInfo   int64 = 0x614 // MSR_PKG_POWER_INFO
	IntelDRAMEnergy     int64 = 0x619 // MSR_DRAM_ENERGY_STATUS
	IntelPlatformEnergy int64 = 0x64D // MSR_PLATFORM_ENERGY_STATUS (psys)
	AMDPowerUnit        int64 = 0xC0010299
	AMDPkgEnergy        int64 = 0xC001029B
)

// Errors of this package.
var (
	// ErrNoRegister: the CPU does not implement the register (the driver
	// answers EIO), or a test tree's file does not hold it.
	ErrNoRegister = errors.New("register not implemented")
	// ErrNoRAPL: the power unit register reads as no unit at all: the
	// CPU, or the hypervisor answering for it, has no RAPL.
	ErrNoRAPL = errors.New("the power unit register holds no energy unit (no RAPL here)")
	// ErrUnsupported: a CPU whose RAPL registers this package does not know.
	ErrUnsupported = errors.New("not an Intel or AMD CPU with RAPL registers")
)

// Unit is the energy one count of a counter stands for, as an exact
// fraction of a microjoule (2^-14 J is 1e6/16384 µJ).
type Unit struct{ num, den uint64 }

// The units that do not come from the unit register.
var (
	// dramServerUnit: the DRAM counters of several Intel server parts count
	// 15.3 µJ whatever the unit register says (their datasheets; the
	// kernel's intel_rapl uses the same figure).
	dramServerUnit = Unit{153, 10}
	// jouleUnit: the psys counter of Sapphire and Emerald Rapids servers
	// counts whole joules.
	jouleUnit = Unit{1_000_000, 1}
)

// EnergyUnit decodes the energy status unit of a power unit register
// (Intel 0x606, AMD 0xC0010299, same layout): bits 12:8 hold n, and one
// count is 1/2^n J. A register without a unit (n = 0, as a hypervisor that
// answers zeros gives) is ErrNoRAPL.
func EnergyUnit(raw uint64) (Unit, error) {
	n := (raw >> 8) & 0x1f
	if n == 0 {
		return Unit{}, ErrNoRAPL
	}
	return Unit{1_000_000, 1 << n}, nil
}

// Energy is count units, rounded down to the microjoule. count is a
// 32-bit counter's value.
func (u Unit) Energy(count uint64) energy.Energy {
	if u.den == 0 {
		return 0
	}
	return energy.Energy((count & 0xffff_ffff) * u.num / u.den)
}

// Range is where a 32-bit counter of this unit wraps: 2^32 counts.
func (u Unit) Range() energy.Energy {
	if u.den == 0 {
		return 0
	}
	return energy.Energy((1 << 32) * u.num / u.den)
}

// Microjoules is the unit in microjoules, for people.
func (u Unit) Microjoules() float64 {
	if u.den == 0 {
		return 0
	}
	return float64(u.num) / float64(u.den)
}

// TDP decodes the thermal spec power of Intel's MSR_PKG_POWER_INFO (bits
// 14:0) in the power unit of the unit register (bits 3:0 hold n: 1/2^n W).
// Zero when the register holds none.
func TDP(powerInfo, unitRaw uint64) energy.Power {
	n := unitRaw & 0xf
	return energy.Power(float64(powerInfo&0x7fff) / float64(uint64(1)<<n))
}

// Layout is where a CPU keeps its RAPL registers, and their units.
type Layout struct {
	Vendor    Vendor
	Unit      int64 // the power unit register
	Package   int64
	DRAM      int64 // 0: the CPU has none
	Platform  int64 // psys; 0: none
	PowerInfo int64 // the package's TDP; 0: none
	// DRAMUnit and PlatformUnit replace the unit register's unit for
	// their counters where they are not zero.
	DRAMUnit, PlatformUnit Unit
}

// dramServerModel: the Intel (family 6) server models whose DRAM counters
// count 15.3 µJ: Haswell-X, Broadwell-X, Skylake-X (and Cascade and Cooper
// Lake, the same model), Ice Lake-X and -D, Xeon Phi Knights Landing and
// Mill.
func dramServerModel(model int) bool {
	switch model {
	case 0x3F, 0x4F, 0x55, 0x6A, 0x6C, 0x57, 0x85:
		return true
	}
	return false
}

// psysJouleModel: Sapphire and Emerald Rapids, whose psys counts joules.
func psysJouleModel(model int) bool { return model == 0x8F || model == 0xCF }

// LayoutOf gives the registers of a CPU. AMD's (family 17h and later, and
// Hygon's 18h) have a package counter only; Intel's may add DRAM and psys,
// which the caller finds present when they read non-zero (as the kernel
// does).
func LayoutOf(id ID) (Layout, error) {
	switch id.Vendor {
	case Intel:
		l := Layout{Vendor: Intel, Unit: IntelPowerUnit, Package: IntelPkgEnergy, DRAM: IntelDRAMEnergy,
			Platform: IntelPlatformEnergy, PowerInfo: IntelPkgPowerInfo}
		if id.Family == 6 && dramServerModel(id.Model) {
			l.DRAMUnit = dramServerUnit
		}
		if id.Family == 6 && psysJouleModel(id.Model) {
			l.PlatformUnit = jouleUnit
		}
		return l, nil
	case AMD:
		if id.Family < 0x17 {
			return Layout{}, fmt.Errorf("AMD family %#x, before Zen: %w", id.Family, ErrUnsupported)
		}
		return Layout{Vendor: AMD, Unit: AMDPowerUnit, Package: AMDPkgEnergy}, nil
	}
	return Layout{}, ErrUnsupported
}

// Device is one CPU's msr device file, kept open; each register is read
// with one pread at its address.
type Device struct {
	path string
	r    kfile.Reader
	buf  [8]byte
}

// Path is the device file of CPU cpu under a /dev root.
func Path(hostDev kfile.DevRoot, cpu int) string {
	return hostDev.Path("cpu", strconv.Itoa(cpu), "msr")
}

// Open opens CPU cpu's device file under hostDev with open (kfile's
// DeviceOpener(Major), or a test's).
func Open(hostDev kfile.DevRoot, cpu int, open kfile.Opener) (*Device, error) {
	path := Path(hostDev, cpu)
	r, err := open(path)
	if err != nil {
		return nil, err
	}
	return &Device{path: path, r: r}, nil
}

// Path is the device's file.
func (d *Device) Path() string { return d.path }

// Read returns the 64-bit register at addr. A register the CPU does not
// implement is ErrNoRegister.
func (d *Device) Read(addr int64) (uint64, error) {
	if d.r == nil {
		return 0, &fs.PathError{Op: "read", Path: d.path, Err: fs.ErrClosed}
	}
	n, err := d.r.ReadAt(d.buf[:], addr)
	switch {
	case errors.Is(err, syscall.EIO):
		return 0, fmt.Errorf("%s: register %#x: %w (%w)", d.path, addr, ErrNoRegister, err)
	case err != nil:
		return 0, err
	case n == 0:
		return 0, fmt.Errorf("%s: register %#x: %w", d.path, addr, ErrNoRegister)
	case n < len(d.buf):
		return 0, fmt.Errorf("%s: register %#x: %d of 8 bytes: %w", d.path, addr, n, kfile.ErrSyntax)
	}
	return binary.LittleEndian.Uint64(d.buf[:]), nil
}

// Close releases the file; closing twice is harmless.
func (d *Device) Close() error {
	if d.r == nil {
		return nil
	}
	err := d.r.Close()
	d.r = nil
	return err
}

// Counter is a 32-bit energy status register read as energy: bits 31:0
// count units of Unit; the upper half is reserved. It is a meter.Reader.
type Counter struct {
	Dev  *Device
	Addr int64
	Unit Unit
}

// Read returns the counter's energy.
func (c Counter) Read() (energy.Energy, error) {
	v, err := c.Dev.Read(c.Addr)
	if err != nil {
		return 0, err
	}
	return c.Unit.Energy(v), nil
}

// Close closes the counter's device (shared by its package's counters:
// closing it twice is harmless).
func (c Counter) Close() error { return c.Dev.Close() }
