package powerinput

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/filter"

	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/netdev"
)

const maxNetDevSize = 32 << 20

// netCollector writes Telegraf's net measurement: the interfaces'
// cumulative counters, as the kernel has them.
type netCollector struct {
	path, hostSys string
	filter        filter.Filter
	say           *sayer

	g      guard.Guard
	file   *kfile.File
	buf    []byte
	err    error
	parser netdev.Parser
	list   []netdev.Counters
	fields map[string]any
	tags   map[string]string
}

func newNetCollector(hostProc, hostSys string, interfaces []string, skipChecks bool, say *sayer) (*netCollector, error) {
	c := &netCollector{path: filepath.Join(hostProc, "net", "dev"), hostSys: hostSys, say: say,
		fields: map[string]any{}, tags: map[string]string{}}
	if len(interfaces) > 0 {
		f, err := filter.Compile(interfaces)
		if err != nil {
			return nil, fmt.Errorf("interfaces %q: %w: %w", interfaces, ErrConfig, err)
		}
		c.filter = f
	}
	_ = skipChecks
	return c, nil
}

func (c *netCollector) read() {
	if c.file == nil {
		if c.file, c.err = kfile.Open(c.path); c.err != nil {
			c.file = nil
			return
		}
	}
	c.buf, c.err = c.file.ReadAll(c.buf, maxNetDevSize)
	if c.err != nil {
		c.file.Close()
		c.file = nil
	}
}

func (c *netCollector) gather(acc telegraf.Accumulator, ts time.Time, deadline time.Time) {
	err := c.g.Do(deadline, c.read)
	if err == nil {
		err = c.err
	}
	if err != nil {
		c.say.once("netdev", telegraf.Error, fmt.Sprintf("cannot read network counters: %v", err))
		return
	}
	c.say.once("netdev", telegraf.Info, "")
	c.list, err = c.parser.ParseBytes(c.buf, c.list)
	if err != nil {
		c.say.once("netparse", telegraf.Warn, fmt.Sprintf("%s: some lines were skipped: %v", c.path, err))
	}
	for _, n := range c.list {
		if c.filter != nil && !c.filter.Match(n.Name) {
			continue
		}
		if c.filter == nil && n.Name == "lo" {
			continue
		}
		clear(c.fields)
		c.fields["bytes_sent"] = n.TxBytes
		c.fields["bytes_recv"] = n.RxBytes
		c.fields["packets_sent"] = n.TxPackets
		c.fields["packets_recv"] = n.RxPackets
		c.fields["err_in"] = n.RxErrors
		c.fields["err_out"] = n.TxErrors
		c.fields["drop_in"] = n.RxDrops
		c.fields["drop_out"] = n.TxDrops
		c.fields["speed"] = int64(-1)
		if v, err := kfile.ReadUint(filepath.Join(c.hostSys, "class", "net", n.Name, "speed")); err == nil {
			c.fields["speed"] = int64(v)
		}
		clear(c.tags)
		c.tags["interface"] = n.Name
		acc.AddCounter("net", c.fields, c.tags, ts)
	}
}
