package gatherloop

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/influxdata/telegraf"
)

// Accumulator writes the points a gather adds straight into a buffer of
// line protocol, as Telegraf's influx serializer writes them by default:
// tags sorted, unsigned integers as integers (capped at the largest int64),
// NaN and infinite floats left out, timestamps in nanoseconds. A point that
// cannot be written (an invalid tag value) is left out and reported.
type Accumulator struct {
	enc     lineprotocol.Encoder
	keys    []string
	dropped []error // why points were left out in this gather
}

// NewAccumulator returns an empty accumulator.
func NewAccumulator() *Accumulator {
	a := &Accumulator{}
	a.enc.SetPrecision(lineprotocol.Nanosecond)
	return a
}

// Bytes is the line protocol of the points added since the last Reset.
func (a *Accumulator) Bytes() []byte { return a.enc.Bytes() }

// Dropped says why points were left out since the last Reset.
func (a *Accumulator) Dropped() []error { return a.dropped }

// Reset empties the buffer, keeping its memory.
func (a *Accumulator) Reset() {
	a.enc.Reset()
	a.dropped = a.dropped[:0]
}

func (a *Accumulator) add(measurement string, fields map[string]any, tags map[string]string, t []time.Time) {
	ts := time.Now()
	if len(t) > 0 {
		ts = t[0]
	}
	a.enc.ClearErr()
	a.enc.StartLine(measurement)
	a.keys = a.keys[:0]
	for k := range tags {
		a.keys = append(a.keys, k)
	}
	slices.Sort(a.keys)
	for _, k := range a.keys {
		a.enc.AddTag(k, tags[k])
	}
	a.keys = a.keys[:0]
	for k := range fields {
		a.keys = append(a.keys, k)
	}
	slices.Sort(a.keys)
	n := 0
	for _, k := range a.keys {
		if v, ok := value(fields[k]); ok {
			a.enc.AddField(k, v)
			n++
		}
	}
	if n == 0 {
		a.enc.EndLine(ts) // refused without a field: the encoder takes the line back
		a.drop(fmt.Errorf("%s: no field that line protocol can hold", measurement))
		return
	}
	a.enc.EndLine(ts)
	if err := a.enc.Err(); err != nil {
		a.drop(fmt.Errorf("%s: %w", measurement, err))
	}
}

func (a *Accumulator) drop(err error) {
	if len(a.dropped) < 16 {
		a.dropped = append(a.dropped, err)
	}
	a.enc.ClearErr()
}

// value converts a field as Telegraf's serializer does by default.
func value(v any) (lineprotocol.Value, bool) {
	switch v := v.(type) {
	case float64:
		return lineprotocol.FloatValue(v)
	case float32:
		return lineprotocol.FloatValue(float64(v))
	case int64:
		return lineprotocol.IntValue(v), true
	case int:
		return lineprotocol.IntValue(int64(v)), true
	case int32:
		return lineprotocol.IntValue(int64(v)), true
	case uint64:
		return lineprotocol.IntValue(int64(min(v, math.MaxInt64))), true
	case uint32:
		return lineprotocol.IntValue(int64(v)), true
	case uint:
		return lineprotocol.IntValue(int64(min(uint64(v), math.MaxInt64))), true
	case bool:
		return lineprotocol.BoolValue(v), true
	case string:
		return lineprotocol.StringValue(v)
	}
	return lineprotocol.Value{}, false
}

// AddFields adds a point.
func (a *Accumulator) AddFields(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.add(m, f, t, ts)
}

// AddGauge adds a point (line protocol has no metric types).
func (a *Accumulator) AddGauge(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.add(m, f, t, ts)
}

// AddCounter adds a point.
func (a *Accumulator) AddCounter(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.add(m, f, t, ts)
}

// AddSummary adds a point.
func (a *Accumulator) AddSummary(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.add(m, f, t, ts)
}

// AddHistogram adds a point.
func (a *Accumulator) AddHistogram(m string, f map[string]any, t map[string]string, ts ...time.Time) {
	a.add(m, f, t, ts)
}

// AddMetric adds a metric.
func (a *Accumulator) AddMetric(m telegraf.Metric) {
	a.add(m.Name(), m.Fields(), m.Tags(), []time.Time{m.Time()})
}

// SetPrecision is ignored: timestamps are written in nanoseconds, as the
// execd shim writes them.
func (*Accumulator) SetPrecision(time.Duration) {}

// AddError records a gather error.
func (a *Accumulator) AddError(err error) {
	if err != nil {
		a.drop(err)
	}
}

// WithTracking is not supported by a gather loop.
func (*Accumulator) WithTracking(int) telegraf.TrackingAccumulator { return nil }

var _ telegraf.Accumulator = (*Accumulator)(nil)
