package netdev_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
	"github.com/influxdata/telegraf"
	"github.com/influxdata/telegraf/metric"
	parser "github.com/influxdata/telegraf/plugins/parsers/influx"
	"github.com/influxdata/telegraf/plugins/parsers/influx/influx_upstream"
	serializer "github.com/influxdata/telegraf/plugins/serializers/influx"

	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/internal/lineproto"
	"github.com/greencampus/powerinput/internal/netdev"
)

// devValidName is the kernel's dev_valid_name (net/core/dev.c), written
// again here from its source, with isspace from lib/ctype.c (which counts
// 0xA0 as a space).
func devValidName(name string) bool {
	if name == "" || len(name) >= 16 || name == "." || name == ".." {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == 0, c == '/', c == ':', c == ' ', c >= '\t' && c <= '\r', c == 0xA0:
			return false
		}
	}
	return true
}

// linuxBytes are the bytes Linux allows in an interface name.
func linuxBytes() []byte {
	var bs []byte
	for c := 0; c < 256; c++ {
		if devValidName(string([]byte{'x', byte(c)})) {
			bs = append(bs, byte(c))
		}
	}
	return bs
}

// roundTrip is how a name travels from powerinput to a database: it writes
// the net metric with Telegraf's influx serializer (the execd shim does),
// and Telegraf reads it back with its influx parser (internal or, with
// influx_parser_type = "upstream", line-protocol/v2). It returns the line
// and an error saying where the name was lost or changed.
type roundTripper struct {
	ser      serializer.Serializer
	internal parser.Parser
	upstream influx_upstream.Parser
}

func newRoundTripper(t testing.TB) *roundTripper {
	t.Helper()
	rt := &roundTripper{}
	for _, i := range []interface{ Init() error }{&rt.ser, &rt.internal, &rt.upstream} {
		if err := i.Init(); err != nil {
			t.Fatal(err)
		}
	}
	return rt
}

func (rt *roundTripper) do(name string) (line string, err error) {
	m := metric.New("net", map[string]string{"interface": name}, map[string]any{"bytes_sent": uint64(1)}, time.Unix(0, 1))
	out, err := rt.ser.Serialize(m)
	if err != nil {
		return "", fmt.Errorf("serializer: %w", err)
	}
	line = string(out)

	dec := lineprotocol.NewDecoderWithBytes(out)
	n := 0
	for dec.Next() {
		n++
		if _, err := dec.Measurement(); err != nil {
			return line, fmt.Errorf("line-protocol/v2: %w", err)
		}
		var tags []string
		for {
			k, v, err := dec.NextTag()
			if err != nil {
				return line, fmt.Errorf("line-protocol/v2: %w", err)
			}
			if k == nil {
				break
			}
			tags = append(tags, string(k)+"="+string(v))
		}
		if len(tags) != 1 || tags[0] != "interface="+name {
			return line, fmt.Errorf("line-protocol/v2 read tags %q", tags)
		}
	}
	if n != 1 {
		return line, fmt.Errorf("line-protocol/v2 read %d lines", n)
	}

	for _, p := range []struct {
		name  string
		parse func([]byte) ([]telegraf.Metric, error)
	}{{"Telegraf's parser", rt.internal.Parse}, {"Telegraf's upstream parser", rt.upstream.Parse}} {
		ms, err := p.parse(out)
		if err != nil {
			return line, fmt.Errorf("%s: %w", p.name, err)
		}
		if len(ms) != 1 || len(ms[0].TagList()) != 1 || ms[0].Tags()["interface"] != name {
			return line, fmt.Errorf("%s read %v", p.name, ms)
		}
	}
	return line, nil
}

// checkName is the property for one name Linux allows (others are let
// by): the parser keeps it as it is; CheckTagValue accepts it exactly when
// it round-trips; and an accepted name makes a series no other accepted
// name makes.
func checkName(t *testing.T, rt *roundTripper, series map[string]string, name string) {
	t.Helper()
	if !devValidName(name) {
		return
	}
	var p netdev.Parser
	got, err := p.ParseBytes(fmt.Appendf(nil, "%6s: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", name), nil)
	if err != nil || len(got) != 1 || got[0].Name != name {
		t.Fatalf("%+q: parsed as %+v, %v", name, got, err)
	}
	check := lineproto.CheckTagValue(name)
	line, lost := rt.do(name)
	switch {
	case check == nil && lost != nil:
		t.Fatalf("%+q accepted, but %v (line %+q)", name, lost, line)
	case check != nil && lost == nil:
		t.Fatalf("%+q refused (%v), but it round-trips as %+q", name, check, line)
	case check != nil && !errors.Is(check, lineproto.ErrTagValue):
		t.Fatalf("%+q: %v does not wrap ErrTagValue", name, check)
	case check == nil:
		if other, ok := series[line]; ok && other != name {
			t.Fatalf("%+q and %+q both make %+q", name, other, line)
		}
		series[line] = name
	}
}

// TestLinuxNamesRoundTrip goes through every name of one and two bytes
// that Linux allows, every three-byte name with a byte that needs care in
// each position, and 200,000 random names of 1 to 15 bytes drawn from the
// bytes Linux allows (half of them from those that need care).
func TestLinuxNamesRoundTrip(t *testing.T) {
	rt := newRoundTripper(t)
	all := linuxBytes()
	if len(all) != 256-10 { // NUL, the five from '\t' to '\r', ' ', '/', ':', 0xA0
		t.Fatalf("%d bytes allowed, want 246", len(all))
	}
	care := []byte("\\\",=|#%.\x01\x1f\x7f\x80\xbf\xc3\xa9\xe2\x82\xac\xed\xf0\xff")
	series := map[string]string{}
	for _, a := range all {
		checkName(t, rt, series, string(a))
		for _, b := range all {
			checkName(t, rt, series, string([]byte{a, b}))
		}
		for _, c := range care {
			for _, n := range [][]byte{{a, c, 'x'}, {c, a, c}, {'x', a, c}, {c, c, a}} {
				checkName(t, rt, series, string(n))
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	var b []byte
	accepted, refused := 0, 0
	for range 200_000 {
		b = b[:0]
		for n := 1 + r.IntN(netdev.NameLen); len(b) < n; {
			switch r.IntN(4) {
			case 0: // a byte that needs care
				b = append(b, care[r.IntN(len(care))])
			case 1: // any byte Linux allows
				b = append(b, all[r.IntN(len(all))])
			case 2: // printable ASCII
				b = append(b, byte('!'+r.IntN('~'-'!'+1)))
			default: // a character of any plane, as UTF-8
				b = utf8.AppendRune(b, rune(r.IntN(0x110000)))
			}
		}
		name := string(b[:min(len(b), netdev.NameLen)])
		checkName(t, rt, series, name)
		if !devValidName(name) {
			continue
		}
		if lineproto.CheckTagValue(name) == nil {
			accepted++
		} else {
			refused++
		}
	}
	// Both sides of the property must be well exercised.
	if accepted < 40_000 || refused < 40_000 {
		t.Errorf("random names: %d accepted, %d refused; want 40,000 of each", accepted, refused)
	}
	t.Logf("random names: %d accepted, %d refused; %d distinct series in all", accepted, refused, len(series))
}

// TestParserRefusesWhatLinuxRefuses compares the parser with the kernel's
// rule on every name of one and two bytes, and on names of 14 to 17 bytes.
func TestParserRefusesWhatLinuxRefuses(t *testing.T) {
	var p netdev.Parser
	try := func(name string) {
		got, err := p.ParseBytes(fmt.Appendf(nil, "%s: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", name), nil)
		kept := err == nil && len(got) == 1 && got[0].Name == name
		if kept != devValidName(name) && !strings.ContainsAny(name, ":\n") {
			t.Fatalf("%+q: parser keeps it: %v, Linux allows it: %v (%v)", name, kept, devValidName(name), err)
		}
	}
	for a := 0; a < 256; a++ {
		try(string([]byte{byte(a)}))
		for b := 0; b < 256; b++ {
			try(string([]byte{byte(a), byte(b)}))
		}
	}
	for n := 14; n <= 17; n++ {
		try(strings.Repeat("e", n))
	}
}

// FuzzCheckTagValue: for any string, CheckTagValue accepts it exactly when
// Telegraf's serializer and parsers give it back unchanged.
func FuzzCheckTagValue(f *testing.F) {
	var p netdev.Parser
	for _, b := range fixtures.Files("dev*", "*net*dev*") {
		got, _ := p.ParseBytes(b, nil)
		for _, c := range got {
			f.Add(c.Name)
		}
	}
	for _, s := range []string{"eth0", `we,ird"=x`, `e\`, `\`, `a\"b`, `a\",b`, "\xff", "a\x01", "a b", `a\ b`, `\\,`, "é"} {
		f.Add(s)
	}
	rt := newRoundTripper(f)
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			// Longer values add nothing the rules do not already cover,
			// and minimising them costs the fuzzer minutes.
			t.Skip()
		}
		check := lineproto.CheckTagValue(s)
		line, lost := rt.do(s)
		if (check == nil) != (lost == nil) {
			t.Fatalf("%+q: CheckTagValue says %v; round trip says %v (line %+q)", s, check, lost, line)
		}
	})
}
