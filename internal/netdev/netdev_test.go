package netdev

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const head = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
`

const sample = head + `    lo: 1234 12 0 0 0 0 0 0 1234 12 0 0 0 0 0 0
  eth0: 584530481 35971 1 2 0 0 0 0 3055718 28475 3 4 0 0 0 0
we,ird"=x: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0
`

// line formats one interface as the kernel does ("%6s: %7llu ...").
func line(name string, v [16]uint64) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%6s:", name)
	for _, x := range v {
		fmt.Fprintf(&sb, " %7d", x)
	}
	sb.WriteByte('\n')
	return sb.String()
}

func counters(name string, v [16]uint64) Counters {
	return Counters{
		Name:    name,
		RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDrops: v[3],
		TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDrops: v[11],
	}
}

func TestParseSample(t *testing.T) {
	var p Parser
	got, err := p.ParseBytes([]byte(sample), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Counters{
		{Name: "lo", RxBytes: 1234, RxPackets: 12, TxBytes: 1234, TxPackets: 12},
		{Name: "eth0", RxBytes: 584530481, RxPackets: 35971, RxErrors: 1, RxDrops: 2, TxBytes: 3055718, TxPackets: 28475, TxErrors: 3, TxDrops: 4},
		{Name: `we,ird"=x`, RxBytes: 10, RxPackets: 1, TxBytes: 20, TxPackets: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d interfaces %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("interface %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestParseNames: every byte Linux allows in a name is kept as it is; the
// name ends at the first ':'.
func TestParseNames(t *testing.T) {
	v := [16]uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	for _, name := range []string{
		"eth0",
		"a|b",             // '|' is not a header
		"|",               // nor is a name that is only '|'
		`e\`,              // a trailing backslash is kept here (tag.go refuses it)
		`\`,               //
		`we,ird"=x`,       //
		"\xff\xfe",        // not UTF-8: Linux allows it
		"caf\xc3\xa9",     // UTF-8
		"\x01\x7f",        // control bytes (not white space)
		"123456789012345", // 15 bytes, the longest
		"...",             // only "." and ".." are refused
		"-",
	} {
		var p Parser
		got, err := p.ParseBytes([]byte(head+line(name, v)), nil)
		if err != nil {
			t.Errorf("%q: %v", name, err)
			continue
		}
		if len(got) != 1 || got[0] != counters(name, v) {
			t.Errorf("%q: got %+v, want %+v", name, got, counters(name, v))
		}
	}
}

func TestParseBadLines(t *testing.T) {
	ok := "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	for _, tc := range []struct {
		name, text, reason string
	}{
		{"short", "  eth1: 1 2 3\n", "3 counters, want 16"},
		{"empty after colon", "  eth1:\n", "0 counters, want 16"},
		{"not a number", "  eth1: 1 2 3 4 5 6 7 8 9 10 11 x 13 14 15 16\n", "counter 12 is not a decimal number"},
		{"negative", "  eth1: 1 2 3 4 5 6 7 8 9 10 11 -1 13 14 15 16\n", "counter 12 is not a decimal number"},
		{"above 64 bits", "  eth1: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "counter 1 is not"},
		{"no name", ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "no interface name"},
		{"blank name", "    : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "no interface name"},
		{"dot", ".: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", `"." or ".."`},
		{"dot dot", "..: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", `"." or ".."`},
		{"slash", "a/b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "'/'"},
		{"space", "a b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "white space"},
		{"nbsp", "a\xa0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "white space"},
		{"vertical tab", "a\vb: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "white space"},
		{"nul", "a\x00: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "NUL"},
		{"too long", "1234567890123456: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", "longer than 15"},
		{"no colon", "eth9 1 2 3\n", "no ':'"},
		{"twice", ok, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Parser
			got, err := p.ParseBytes([]byte(head+ok+tc.text), nil)
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("err = %v, want a *SyntaxError wrapping ErrSyntax", err)
			}
			if se.Lines != 1 || !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), "line 4: ") {
				t.Errorf("err = %q (%d lines), want line 4 and %q", err, se.Lines, tc.reason)
			}
			if len(got) != 1 || got[0].Name != "eth0" {
				t.Errorf("kept %+v, want eth0 alone", got)
			}
		})
	}
}

// TestParseExtraCounters: columns past the sixteenth are ignored.
func TestParseExtraCounters(t *testing.T) {
	var p Parser
	got, err := p.ParseBytes([]byte("eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 x\n"), nil)
	if err != nil || len(got) != 1 || got[0].TxDrops != 12 {
		t.Fatalf("got %+v, %v", got, err)
	}
}

// TestSyntaxErrorBounded: an error for many bad lines describes a few,
// counts the rest, and quotes only escaped short prefixes.
func TestSyntaxErrorBounded(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(head)
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sb, "bad\x1b[31m%d\xff: 1 2 %s\n", i, strings.Repeat("x", 500))
	}
	var p Parser
	_, err := p.ParseBytes([]byte(sb.String()), nil)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Lines != 1000 {
		t.Fatalf("err = %v, want 1000 lines", err)
	}
	msg := err.Error()
	if len(msg) > 400 || !strings.Contains(msg, "and 997 more") {
		t.Errorf("message of %d bytes: %s", len(msg), msg)
	}
	for _, r := range msg {
		if r < ' ' || r > '~' {
			t.Fatalf("message holds %q: %s", r, msg)
		}
	}
}

func TestParseHeadersAndBlankLines(t *testing.T) {
	var p Parser
	got, err := p.ParseBytes([]byte("\n"+head+"\n   \n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"), nil)
	if err != nil || len(got) != 1 {
		t.Fatalf("got %+v, %v", got, err)
	}
}

// TestParserForgets: names of interfaces that came and went are dropped
// after a few parses, whatever the churn.
func TestParserForgets(t *testing.T) {
	var p Parser
	var dst []Counters
	for round := 0; round < 200; round++ {
		var sb strings.Builder
		for i := 0; i < 100; i++ {
			sb.WriteString(line(fmt.Sprintf("r%di%d", round, i), [16]uint64{}))
		}
		var err error
		if dst, err = p.ParseBytes([]byte(sb.String()), dst); err != nil || len(dst) != 100 {
			t.Fatalf("round %d: %d interfaces, %v", round, len(dst), err)
		}
		if p.kept() > (forgetAfter+1)*100+64 {
			t.Fatalf("round %d: %d names kept for 100 interfaces", round, p.kept())
		}
	}
}

func TestParseSteadyStateAllocs(t *testing.T) {
	data := []byte(sample)
	var p Parser
	dst, _ := p.ParseBytes(data, nil)
	allocs := testing.AllocsPerRun(100, func() {
		dst, _ = p.ParseBytes(data, dst)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per parse, want 0", allocs)
	}
}

func BenchmarkParse(b *testing.B) {
	data := []byte(sample)
	var p Parser
	var dst []Counters
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = p.ParseBytes(data, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// A file that is not what it claims (a password file where /proc/net/dev
// should be) never has its bytes in the error.
func TestSyntaxErrorHoldsNoContent(t *testing.T) {
	var p Parser
	_, err := p.ParseBytes([]byte("root:$6$S3cr3tSaltAndHashValue:19000:0:99999:7:::\n"), nil)
	require.ErrorIs(t, err, ErrSyntax)
	require.NotContains(t, err.Error(), "S3cr3t")
	require.NotContains(t, err.Error(), "root")
	require.Contains(t, err.Error(), "line 1: ")
}
