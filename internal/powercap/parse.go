// Package powercap reads Linux powercap zones (RAPL through the intel_rapl
// drivers, on Intel and AMD) from a sysfs tree rooted at a configurable path.
//
// It never imports Telegraf: it finds zones, reads their limits and opens
// their energy counters; the meter package turns readings into power.
package powercap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrSyntax is wrapped by every parse error of this package.
var ErrSyntax = errors.New("invalid powercap value")

// maxAttrSize bounds what is read of one sysfs attribute. A number such as
// energy_uj or a zone name fits many times over.
const maxAttrSize = 64

// ParseUint parses the content of a numeric powercap attribute such as
// energy_uj: decimal digits, optionally followed by white space (the kernel
// writes a newline). It does not allocate when the value is valid.
func ParseUint(b []byte) (uint64, error) {
	b = bytes.TrimRight(b, " \t\r\n")
	if len(b) == 0 {
		return 0, fmt.Errorf("empty value: %w", ErrSyntax)
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a decimal number: %w", truncate(b), ErrSyntax)
		}
		d := uint64(c - '0')
		if v > (^uint64(0)-d)/10 {
			return 0, fmt.Errorf("%q overflows 64 bits: %w", truncate(b), ErrSyntax)
		}
		v = v*10 + d
	}
	return v, nil
}

// ReadUint reads a numeric attribute from r and parses it with ParseUint.
func ReadUint(r io.Reader) (uint64, error) {
	b, err := readAttr(r)
	if err != nil {
		return 0, err
	}
	return ParseUint(b)
}

func readAttr(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxAttrSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxAttrSize {
		return nil, fmt.Errorf("value longer than %d bytes: %w", maxAttrSize, ErrSyntax)
	}
	return b, nil
}

func truncate(b []byte) []byte {
	if len(b) > 24 {
		return b[:24]
	}
	return b
}

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

// ParseZoneName parses the content of a zone's name file. For a package
// zone ("package-3") it also returns the package number, which is where
// package_id comes from: the number in the name, never the zone's index in
// its path (a psys zone may sit between two packages).
func ParseZoneName(b []byte) (Domain, int, error) {
	s := string(bytes.TrimRight(b, " \t\r\n"))
	switch s {
	case "dram":
		return DomainDRAM, -1, nil
	case "core":
		return DomainCore, -1, nil
	case "uncore":
		return DomainUncore, -1, nil
	case "psys":
		return DomainPsys, -1, nil
	}
	const prefix = "package-"
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		digits := s[len(prefix):]
		if digits[0] == '+' || digits[0] == '-' {
			return DomainUnknown, -1, fmt.Errorf("zone name %q: %w", s, ErrSyntax)
		}
		n, err := strconv.ParseUint(digits, 10, 16)
		if err != nil {
			return DomainUnknown, -1, fmt.Errorf("zone name %q: %w", s, ErrSyntax)
		}
		return DomainPackage, int(n), nil
	}
	if s == "" {
		return DomainUnknown, -1, fmt.Errorf("empty zone name: %w", ErrSyntax)
	}
	return DomainUnknown, -1, nil
}
