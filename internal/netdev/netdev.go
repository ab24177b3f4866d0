// Package netdev parses /proc/net/dev, the kernel's per-interface traffic
// counters.
package netdev

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/greencampus/powerinput/internal/procfile"
	"io"
)

// ErrSyntax is wrapped by every parse error of this package.
var ErrSyntax = errors.New("invalid /proc/net/dev line")

// Counters are one interface's cumulative counters.
type Counters struct {
	Name                                  string
	RxBytes, RxPackets, RxErrors, RxDrops uint64
	TxBytes, TxPackets, TxErrors, TxDrops uint64
}

// Parser parses /proc/net/dev content. It keeps the interface names it has
// seen, so that parsing the same interfaces again does not allocate.
type Parser struct {
	names map[string]string
}

// Parse reads /proc/net/dev content from r.
func (p *Parser) Parse(r io.Reader, dst []Counters) ([]Counters, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return dst[:0], err
	}
	return p.ParseBytes(b, dst)
}

// ParseBytes parses /proc/net/dev content into dst (reused). A malformed
// line is left out and reported in the returned error; the other
// interfaces are kept.
func (p *Parser) ParseBytes(b []byte, dst []Counters) ([]Counters, error) {
	dst = dst[:0]
	var errs []error
	for len(b) > 0 {
		var line []byte
		line, b = procfile.NextLine(b)
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue // the two header lines ("Inter-|   Receive ...")
		}
		name := bytes.TrimSpace(line[:colon])
		if len(name) == 0 || bytes.ContainsRune(name, '|') {
			errs = append(errs, fmt.Errorf("%q: no interface name: %w", procfile.Short(line), ErrSyntax))
			continue
		}
		var v [16]uint64
		rest := line[colon+1:]
		n := 0
		for n < len(v) {
			var f []byte
			f, rest = procfile.NextField(rest)
			if f == nil {
				break
			}
			x, ok := procfile.Uint(f)
			if !ok {
				break
			}
			v[n] = x
			n++
		}
		if n < len(v) {
			errs = append(errs, fmt.Errorf("%q: %d counters, want 16: %w", procfile.Short(line), n, ErrSyntax))
			continue
		}
		dst = append(dst, Counters{
			Name:    p.intern(name),
			RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDrops: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDrops: v[11],
		})
	}
	return dst, errors.Join(errs...)
}

func (p *Parser) intern(b []byte) string {
	if s, ok := p.names[string(b)]; ok {
		return s
	}
	if p.names == nil {
		p.names = map[string]string{}
	}
	if len(p.names) > 4096 {
		clear(p.names) // bound the memory kept for interfaces that came and went
	}
	s := string(b)
	p.names[s] = s
	return s
}
