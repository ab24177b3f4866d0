package powerinput

import (
	"bytes"
	"fmt"
	"os"

	"path/filepath"
	"strconv"
	"time"

	"github.com/greencampus/powerinput/internal/procfile"

	"github.com/influxdata/telegraf"

	"github.com/greencampus/powerinput/internal/netdev"
	"github.com/greencampus/powerinput/internal/procstat"
)

// cpuSample is what one /proc/stat reading adds to the previous one.
type cpuSample struct {
	prev, cur *procstat.Stat
	interval  time.Duration
	busy      float64 // share of all CPUs busy, 0 to 1
	hasBusy   bool
	vcpus     int
}

type cpuState struct {
	a, b   procstat.Stat
	prevAt time.Time
	primed bool
	names  []string // "cpu-total", "cpu0", … by ID+1
	s      cpuSample
}

// sampleCPU reads /proc/stat; nil on the first gather and after a failed
// read, when there is nothing to compare with.
func (p *PowerInput) sampleCPU() *cpuSample {
	st := &p.cpu
	if st.s.cur == nil {
		st.s.prev, st.s.cur = &st.a, &st.b
	}
	b, err := p.statFile.Read()
	if err != nil {
		p.once("stat", telegraf.Error, fmt.Sprintf("cannot read CPU times: %v", err))
		st.primed = false
		return nil
	}
	p.once("stat", telegraf.Info, "")
	st.s.prev, st.s.cur = st.s.cur, st.s.prev
	now := p.clock()
	if err := procstat.ParseBytes(b, st.s.cur); err != nil {
		p.once("statparse", telegraf.Warn, fmt.Sprintf("%s: some CPU lines were skipped: %v", p.statFile.Path(), err))
	}
	if !st.primed {
		st.primed, st.prevAt = true, now
		return nil
	}
	s := &st.s
	s.interval = now.Sub(st.prevAt)
	st.prevAt = now
	s.vcpus = s.cur.Online()
	s.hasBusy = false
	prevT, ok1 := s.prev.Total()
	curT, ok2 := s.cur.Total()
	if ok1 && ok2 && s.interval > 0 {
		if u, ok := procstat.Compute(prevT, curT); ok {
			s.busy, s.hasBusy = u.Busy(), true
		}
	}
	return s
}

func (p *PowerInput) cpuName(id int) string {
	st := &p.cpu
	for len(st.names) <= id+1 {
		n := len(st.names) - 1
		if n == procstat.TotalID {
			st.names = append(st.names, "cpu-total")
		} else {
			st.names = append(st.names, "cpu"+strconv.Itoa(n))
		}
	}
	return st.names[id+1]
}

// addCPU writes Telegraf's cpu measurement: usage in percent since the
// previous gather, for every CPU present in both readings.
func (p *PowerInput) addCPU(acc telegraf.Accumulator, s *cpuSample, ts time.Time) {
	for _, c := range s.cur.CPUs {
		if (c.ID == procstat.TotalID && !p.TotalCPU) || (c.ID != procstat.TotalID && !p.PerCPU) {
			continue
		}
		prev, ok := s.prev.Find(c.ID)
		if !ok {
			continue // a CPU that just came online
		}
		u, ok := procstat.Compute(prev, c.Times)
		if !ok {
			continue
		}
		clear(p.fields)
		p.fields["usage_user"] = u.User
		p.fields["usage_system"] = u.System
		p.fields["usage_idle"] = u.Idle
		p.fields["usage_nice"] = u.Nice
		p.fields["usage_iowait"] = u.Iowait
		p.fields["usage_irq"] = u.Irq
		p.fields["usage_softirq"] = u.Softirq
		p.fields["usage_steal"] = u.Steal
		p.fields["usage_guest"] = u.Guest
		p.fields["usage_guest_nice"] = u.GuestNice
		clear(p.tags)
		p.tags["cpu"] = p.cpuName(c.ID)
		acc.AddGauge("cpu", p.fields, p.tags, ts)
	}
}

type netState struct {
	parser   netdev.Parser
	list     []netdev.Counters
	loopback map[string]bool
	speeds   map[string]*speedFile
	gen      uint64 // gathers, to find interfaces that vanished
}

type speedFile struct {
	f   *procfile.File
	gen uint64
}

// gatherNet writes Telegraf's net measurement: the interfaces' cumulative
// counters, as the kernel has them.
func (p *PowerInput) gatherNet(acc telegraf.Accumulator, ts time.Time) {
	b, err := p.netFile.Read()
	if err != nil {
		p.once("netdev", telegraf.Error, fmt.Sprintf("cannot read network counters: %v", err))
		return
	}
	p.once("netdev", telegraf.Info, "")
	st := &p.net
	st.gen++
	defer st.forgetVanished()
	st.list, err = st.parser.ParseBytes(b, st.list)
	if err != nil {
		p.once("netparse", telegraf.Warn, fmt.Sprintf("%s: some lines were skipped: %v", p.netFile.Path(), err))
	}
	for _, c := range st.list {
		if p.ifFilter != nil {
			if !p.ifFilter.Match(c.Name) {
				continue
			}
		} else if p.isLoopback(c.Name) {
			continue
		}
		clear(p.fields)
		p.fields["bytes_sent"] = c.TxBytes
		p.fields["bytes_recv"] = c.RxBytes
		p.fields["packets_sent"] = c.TxPackets
		p.fields["packets_recv"] = c.RxPackets
		p.fields["err_in"] = c.RxErrors
		p.fields["err_out"] = c.TxErrors
		p.fields["drop_in"] = c.RxDrops
		p.fields["drop_out"] = c.TxDrops
		p.fields["speed"] = p.linkSpeed(c.Name)
		clear(p.tags)
		p.tags["interface"] = c.Name
		acc.AddCounter("net", p.fields, p.tags, ts)
	}
}

// linkSpeed is class/net/<name>/speed in Mbit/s, -1 where unknown (a
// virtual or down interface), as Telegraf's net input reports it. The file
// stays open between gathers.
func (p *PowerInput) linkSpeed(name string) int64 {
	st := &p.net
	e, ok := st.speeds[name]
	if !ok {
		if st.speeds == nil {
			st.speeds = map[string]*speedFile{}
		}
		e = &speedFile{f: procfile.New(filepath.Join(p.HostSys, "class", "net", name, "speed"))}
		st.speeds[name] = e
	}
	e.gen = st.gen
	b, err := e.f.Read()
	if err != nil {
		return -1
	}
	v, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil {
		return -1
	}
	return v
}

// forgetVanished closes the speed files of interfaces not seen this gather.
func (st *netState) forgetVanished() {
	for name, e := range st.speeds {
		if e.gen != st.gen {
			e.f.Close()
			delete(st.speeds, name)
		}
	}
}

// isLoopback tells by the interface's ARP hardware type (772), or by its
// name where sysfs does not say.
func (p *PowerInput) isLoopback(name string) bool {
	st := &p.net
	if v, ok := st.loopback[name]; ok {
		return v
	}
	lo := name == "lo"
	if b, err := os.ReadFile(filepath.Join(p.HostSys, "class", "net", name, "type")); err == nil {
		lo = string(bytes.TrimSpace(b)) == "772"
	}
	if st.loopback == nil || len(st.loopback) > 4096 {
		st.loopback = map[string]bool{}
	}
	st.loopback[name] = lo
	return lo
}
