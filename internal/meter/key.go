package meter

import (
	"strconv"

	"github.com/greencampus/powerinput/internal/energy"
)

// Domain is what a channel measures.
type Domain uint8

// Domains. Package and DRAM belong to a CPU package (or one die of it); the
// host total adds them. GPU is a device beside the CPUs, also added.
// Platform is the whole machine as one sensor sees it (wall power, psys):
// never added to the parts it contains.
const (
	Package Domain = iota
	DRAM
	GPU
	Platform
)

func (d Domain) String() string {
	switch d {
	case Package:
		return "package"
	case DRAM:
		return "dram"
	case GPU:
		return "gpu"
	default:
		return "platform"
	}
}

// Additive says whether the domain's energy is a part of the host total.
func (d Domain) Additive() bool { return d != Platform }

// Key names one measured part of a machine: a domain of a device.
type Key struct {
	Domain Domain
	// ID is the device's number: the CPU package (package_id), the GPU.
	ID int
	// Die is the die of a multi-die CPU package; NoDie where the package is
	// measured whole.
	Die int
}

// NoDie is Key.Die of a package measured as a whole.
const NoDie = -1

// Device is the key without its domain: a package's package and DRAM
// domains are one device.
func (k Key) Device() Key { return Key{ID: k.ID, Die: k.Die, Domain: deviceDomain(k.Domain)} }

func deviceDomain(d Domain) Domain {
	if d == DRAM {
		return Package
	}
	return d
}

func (k Key) String() string {
	s := k.Domain.String() + " " + strconv.Itoa(k.ID)
	if k.Die != NoDie {
		s += " die " + strconv.Itoa(k.Die)
	}
	return s
}

// Part is the energy one part used during an interval.
type Part struct {
	Key    Key
	Energy energy.Energy
}
