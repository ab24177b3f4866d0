package influx

import "testing"

func TestVMName(t *testing.T) {
	for _, tc := range []struct {
		tag, want string
		ok        bool
	}{
		{"web", "web", true},
		{"__x", "_x", true},
		{"___y", "__y", true},
		{"_hypervisor", "", false},
		{"_unused", "", false},
		{"_unattributed", "", false},
	} {
		if got, ok := VMName(tc.tag); got != tc.want || ok != tc.ok {
			t.Errorf("VMName(%q) = %q, %v; want %q, %v", tc.tag, got, ok, tc.want, tc.ok)
		}
	}
}
