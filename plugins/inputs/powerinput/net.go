package powerinput

import (
	"fmt"
	"time"

	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/filter"

	"github.com/greencampus/powerinput/internal/guard"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/netdev"
	"github.com/greencampus/powerinput/internal/say"
)

// netCollector writes Telegraf's net measurement: the interfaces'
// cumulative counters, as the kernel has them, with Telegraf's choice of
// interfaces: those of the interfaces option, or else every interface that
// is up and not loopback (all of them when HOST_PROC is set).
type netCollector struct {
	reader *netdev.Reader
	say    *say.Once

	g      guard.Guard
	list   []netdev.Interface
	err    error
	fields map[string]any
	tags   map[string]string
}

func newNetCollector(roots kfile.Roots, interfaces []string, hostProcSet bool, tell *say.Once) (*netCollector, error) {
	opts := netdev.Options{Checks: len(interfaces) == 0 && !hostProcSet}
	if len(interfaces) > 0 {
		f, err := filter.Compile(interfaces)
		if err != nil {
			return nil, fmt.Errorf("interfaces %q: %w: %w", interfaces, ErrConfig, err)
		}
		opts.Match = f.Match
	}
	c := &netCollector{reader: netdev.NewReader(roots.Proc, roots.Sys, opts), say: tell,
		fields: map[string]any{}, tags: map[string]string{}}
	// Not inline, though sysfs is in memory: a link's speed asks its
	// driver, which may wait on a lock (rtnl) for as long as another
	// task holds it. The deadline keeps such a wait out of the gather.
	return c, nil
}

func (c *netCollector) read() { c.list, c.err = c.reader.Read() }

func (c *netCollector) close(deadline time.Time) {
	c.g.Do(deadline, func() { c.reader.Close() })
}

func (c *netCollector) gather(acc telegraf.Accumulator, t *tick) {
	if gerr := c.g.Do(t.deadline(), c.read); gerr != nil {
		c.say.Say("netdev", say.Error, fmt.Sprintf("cannot read network counters: %s: %v", c.reader.Path(), gerr))
		return
	}
	if c.err != nil && len(c.list) == 0 {
		c.say.Say("netdev", say.Error, fmt.Sprintf("cannot read network counters: %v", c.err))
		return
	}
	c.say.Say("netdev", say.Info, "")
	if c.err != nil {
		c.say.Say("netparse", say.Warn, fmt.Sprintf("%s: some lines were skipped: %v", c.reader.Path(), c.err))
	} else {
		c.say.Say("netparse", say.Warn, "")
	}
	for i := range c.list {
		n := &c.list[i]
		if n.Skip == netdev.SkipName && n.New {
			c.say.Say("netname:"+n.Name, say.Warn, fmt.Sprintf("interface %+q is not written: its name %v", n.Name, n.TagErr))
		}
		if n.Skip != netdev.Write {
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
		c.fields["speed"] = n.Speed
		clear(c.tags)
		c.tags["interface"] = n.Name
		acc.AddCounter("net", c.fields, c.tags, t.ts)
	}
}
