package powercap

import (
	"errors"
	"github.com/greencampus/powerinput/internal/fixtures"
	"strings"
	"testing"
)

func TestParseUint(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"123456\n", 123456, false},
		{"0", 0, false},
		{"18446744073709551615\n", 18446744073709551615, false},
		{"18446744073709551616", 0, true},
		{"", 0, true},
		{"\n", 0, true},
		{"-5", 0, true},
		{"12a", 0, true},
		{" 12", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseUint([]byte(tt.in))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseUint(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseUint(%q) error %v does not wrap ErrSyntax", tt.in, err)
		}
	}
}

func TestParseZoneName(t *testing.T) {
	tests := []struct {
		in      string
		domain  Domain
		pkg     int
		wantErr bool
	}{
		{"package-0\n", DomainPackage, 0, false},
		{"package-12", DomainPackage, 12, false},
		{"dram\n", DomainDRAM, -1, false},
		{"psys", DomainPsys, -1, false},
		{"core", DomainCore, -1, false},
		{"uncore", DomainUncore, -1, false},
		{"package-", DomainUnknown, -1, false},
		{"package-x", DomainUnknown, -1, true},
		{"package--1", DomainUnknown, -1, true},
		{"package-99999", DomainUnknown, -1, true},
		{"", DomainUnknown, -1, true},
		{"gpu", DomainUnknown, -1, false},
	}
	for _, tt := range tests {
		d, pkg, err := ParseZoneName([]byte(tt.in))
		if d != tt.domain || pkg != tt.pkg || (err != nil) != tt.wantErr {
			t.Errorf("ParseZoneName(%q) = %v, %d, %v; want %v, %d, error %v", tt.in, d, pkg, err, tt.domain, tt.pkg, tt.wantErr)
		}
	}
}

func FuzzParseUint(f *testing.F) {
	for _, b := range fixtures.Files("energy_uj", "max_energy_range_uj", "constraint_*_max_power_uw") {
		f.Add(b)
	}
	for _, s := range []string{"262143328850\n", "0", "", "65712999613\n", "1\n2", "99999999999999999999"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseUint(b)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not wrap ErrSyntax", err)
			}
			return
		}
		// A value it accepts is digits (and trailing blanks) that print back.
		digits := strings.TrimRight(string(b), " \t\r\n")
		if strings.TrimLeft(digits, "0") != strings.TrimLeft(uintString(v), "0") {
			t.Fatalf("ParseUint(%q) = %d", b, v)
		}
	})
}

func uintString(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for v > 0 {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
	}
	return string(b)
}

func FuzzParseZoneName(f *testing.F) {
	for _, b := range fixtures.Files("name") {
		f.Add(b)
	}
	for _, s := range []string{"package-0\n", "package-1", "dram\n", "psys", "core", "uncore", "package-", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, pkg, err := ParseZoneName(b)
		if err != nil && !errors.Is(err, ErrSyntax) {
			t.Fatalf("error %v does not wrap ErrSyntax", err)
		}
		if (d == DomainPackage) != (pkg >= 0) {
			t.Fatalf("ParseZoneName(%q) = %v, %d: a package number only for packages", b, d, pkg)
		}
	})
}

func FuzzReadUint(f *testing.F) {
	for _, b := range fixtures.Files("energy_uj", "max_energy_range_uj") {
		f.Add(string(b))
	}
	f.Add("1234\n")
	f.Add(strings.Repeat("9", 100))
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ReadUint(strings.NewReader(s)); err != nil && !errors.Is(err, ErrSyntax) {
			t.Fatalf("error %v does not wrap ErrSyntax", err)
		}
	})
}
