package netdev

import (
	"errors"
	"github.com/greencampus/powerinput/internal/fixtures"
	"strings"
	"testing"
)

const sample = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 1234 12 0 0 0 0 0 0 1234 12 0 0 0 0 0 0
  eth0: 584530481 35971 1 2 0 0 0 0 3055718 28475 3 4 0 0 0 0
we,ird"=x: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0
`

func TestParse(t *testing.T) {
	var p Parser
	got, err := p.Parse(strings.NewReader(sample), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d interfaces, want 3", len(got))
	}
	eth := got[1]
	want := Counters{Name: "eth0", RxBytes: 584530481, RxPackets: 35971, RxErrors: 1, RxDrops: 2, TxBytes: 3055718, TxPackets: 28475, TxErrors: 3, TxDrops: 4}
	if eth != want {
		t.Fatalf("eth0 = %+v, want %+v", eth, want)
	}
	if got[2].Name != `we,ird"=x` {
		t.Fatalf("name %q", got[2].Name)
	}
}

func TestParseBadLines(t *testing.T) {
	text := sample + "  eth1: 1 2 3\n  eth2: 1 2 3 4 5 6 7 8 9 10 11 x 13 14 15 16\n: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	var p Parser
	got, err := p.ParseBytes([]byte(text), nil)
	if !errors.Is(err, ErrSyntax) {
		t.Fatalf("err = %v, want ErrSyntax", err)
	}
	if len(got) != 3 {
		t.Fatalf("kept %d interfaces, want the 3 good ones", len(got))
	}
}

func FuzzParse(f *testing.F) {
	for _, b := range fixtures.Files("dev", "dev.*") {
		f.Add(string(b))
	}
	f.Add(sample)
	f.Add("eth0: 1 2 3\n")
	f.Add(":\n")
	f.Fuzz(func(t *testing.T, text string) {
		var p Parser
		got, err := p.ParseBytes([]byte(text), nil)
		if err != nil && !errors.Is(err, ErrSyntax) {
			t.Fatalf("error %v does not wrap ErrSyntax", err)
		}
		for _, c := range got {
			if c.Name == "" || strings.ContainsAny(c.Name, "\n") {
				t.Fatalf("bad name %q", c.Name)
			}
		}
	})
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
