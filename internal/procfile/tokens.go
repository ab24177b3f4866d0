package procfile

import "bytes"

// NextField returns the first run of non-blank bytes of b (blanks are
// spaces and tabs) and what follows it; field is nil when b holds none.
func NextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if i == len(b) {
		return nil, nil
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}

// Uint parses a plain decimal counter of at most 19 digits (which cannot
// overflow 64 bits). It does not allocate.
func Uint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// Short cuts b for an error message.
func Short(b []byte) []byte {
	if len(b) > 60 {
		return b[:60]
	}
	return b
}

// NextLine returns the first line of b, without its newline, and the rest.
func NextLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}
