package numfmt

import "testing"

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		d    int
		lang string
		want string
	}{
		{1234567.891, 2, "fr", "1\u202F234\u202F567,89"},
		{1234567.891, 2, "en", "1,234,567.89"},
		{999, 0, "fr", "999"},
		{1000, 0, "fr", "1\u202F000"},
		{-0.004, 2, "en", "0.00"},
		{-12.5, 1, "fr", "−12,5"},
		{0.42, 2, "fr", "0,42"},
	} {
		if got := Number(tc.v, tc.d, tc.lang); got != tc.want {
			t.Errorf("Number(%v, %d, %s) = %q, want %q", tc.v, tc.d, tc.lang, got, tc.want)
		}
	}
}
