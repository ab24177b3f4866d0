// Package powercap finds Linux powercap zones (RAPL through the intel_rapl
// drivers, on Intel and AMD) in a sysfs tree rooted at a configurable path,
// and notices when the set of zones changes (a driver reload, a package
// whose CPUs all went offline and came back).
//
// It never imports Telegraf and never reads energy: it finds zones and
// their limits; the rapl source reads their counters.
package powercap

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/greencampus/powerinput/internal/kfile"
)

// ErrNoPowercap says the sysfs tree has no powercap zones: the kernel lacks
// the intel_rapl drivers (not loaded, or a VM without RAPL).
var ErrNoPowercap = errors.New("no powercap zones")

// ErrName is wrapped by the error for a zone name that cannot be read.
var ErrName = errors.New("invalid zone name")

// Domain is what a zone measures, from its name file.
type Domain int

// The domains the kernel names. Core and uncore lie inside their package;
// psys covers the whole platform (SoC and more) on client parts.
const (
	DomainUnknown Domain = iota
	DomainPackage
	DomainDRAM
	DomainCore
	DomainUncore
	DomainPsys
)

func (d Domain) String() string {
	switch d {
	case DomainPackage:
		return "package"
	case DomainDRAM:
		return "dram"
	case DomainCore:
		return "core"
	case DomainUncore:
		return "uncore"
	case DomainPsys:
		return "psys"
	default:
		return "unknown"
	}
}

// NoDie is the die of a zone that covers a whole package.
const NoDie = -1

// ParseZoneName parses the content of a zone's name file. For a package
// zone it also returns the package number, which is where package_id comes
// from (the number in the name, never the zone's index in its path: a psys
// zone may sit between two packages), and the die of a multi-die package,
// which the kernel names "package-N-die-M" (NoDie otherwise).
func ParseZoneName(b []byte) (d Domain, pkg, die int, err error) {
	s := kfile.TrimSpace(b)
	switch string(s) {
	case "dram":
		return DomainDRAM, -1, NoDie, nil
	case "core":
		return DomainCore, -1, NoDie, nil
	case "uncore":
		return DomainUncore, -1, NoDie, nil
	case "psys":
		return DomainPsys, -1, NoDie, nil
	case "":
		return DomainUnknown, -1, NoDie, fmt.Errorf("empty: %w", ErrName)
	}
	rest, ok := bytes.CutPrefix(s, []byte("package-"))
	if !ok {
		return DomainUnknown, -1, NoDie, nil // a domain this program does not use
	}
	num, dieNum, hasDie := bytes.Cut(rest, []byte("-die-"))
	pkg, ok = smallUint(num)
	if !ok {
		return DomainUnknown, -1, NoDie, fmt.Errorf("package-N with N not a number below 65536: %w", ErrName)
	}
	if !hasDie {
		return DomainPackage, pkg, NoDie, nil
	}
	die, ok = smallUint(dieNum)
	if !ok {
		return DomainUnknown, -1, NoDie, fmt.Errorf("package-N-die-M with M not a number below 65536: %w", ErrName)
	}
	return DomainPackage, pkg, die, nil
}

// smallUint parses plain decimal digits up to 65535: no kernel has more
// packages or dies; a larger number is garbage.
func smallUint(b []byte) (int, bool) {
	v, ok := kfile.Uint(b)
	if !ok || v > 65535 {
		return 0, false
	}
	return int(v), true
}

// parentEntry is the entry of a subzone's parent: "intel-rapl:0" for
// "intel-rapl:0:1"; "" for a top-level zone.
func parentEntry(entry string) string {
	i := strings.LastIndexByte(entry, ':')
	if i < 0 || strings.IndexByte(entry[:i], ':') < 0 {
		return ""
	}
	return entry[:i]
}

// controlType is the part of an entry before its first ':' ("intel-rapl",
// "intel-rapl-mmio").
func controlType(entry string) string {
	t, _, _ := strings.Cut(entry, ":")
	return t
}
