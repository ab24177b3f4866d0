package lineproto

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckTagValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // part of the reason; "" for nil
	}{
		{"eth0", ""},
		{`we,ird"=x`, ""},
		{"a|b", ""},
		{`a\b`, ""},
		{`a\,b`, ""},
		{`a\"b`, ""},
		{`\"`, ""},
		{`,\=`, ""},
		{"café", ""},
		{"\u0085", ""}, // a C1 control, valid UTF-8: both decoders keep it
		{"", "empty"},
		{`e\`, "ends with a backslash"},
		{`\`, "ends with a backslash"},
		{`\\`, "ends with a backslash"},
		{"\xff", "not valid UTF-8"},
		{"caf\xc3", "not valid UTF-8"},
		{"a\x01", "control character"},
		{"a\x7f", "control character"},
		{"a\tb", "control character"},
		{`a\",b`, `before '"'`},
		{`a\"=b`, `before '"'`},
		{`=\"`, `before '"'`},
	} {
		err := CheckTagValue(tc.name)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+q: %v, want nil", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrTagValue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+q: %v, want %q wrapping ErrTagValue", tc.name, err, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = CheckTagValue(`we,ird"=x`) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
