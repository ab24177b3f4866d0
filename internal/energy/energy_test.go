package energy

import (
	"testing"
	"time"
)

func TestDelta(t *testing.T) {
	const max = Energy(262143328850)
	tests := []struct {
		name       string
		prev, cur  Energy
		max        Energy
		want       Energy
		wantStatus DeltaStatus
	}{
		{"advance", 100, 350, max, 250, Advanced},
		{"equal readings are zero, not a wrap", 777, 777, max, 0, Advanced},
		{"equal at zero", 0, 0, 0, 0, Advanced},
		{"wrap", 262000000000, 356671150, max, 500000000, Wrapped},
		{"wrap from the maximum itself", max, 10, max, 10, Wrapped},
		{"backwards without maximum is a reset", 900, 100, 0, 0, Reset},
		{"previous above maximum is a reset", max + 5, 3, max, 0, Reset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, status := Delta(tt.prev, tt.cur, tt.max)
			if got != tt.want || status != tt.wantStatus {
				t.Errorf("Delta(%d, %d, %d) = %d, %v; want %d, %v", tt.prev, tt.cur, tt.max, got, status, tt.want, tt.wantStatus)
			}
		})
	}
}

func TestAverageAndOver(t *testing.T) {
	if got := Average(500*Joule, 10*time.Second); got != 50 {
		t.Errorf("Average(500 J, 10 s) = %v, want 50", got)
	}
	if got := Average(500*Joule, 0); got != 0 {
		t.Errorf("Average over 0 s = %v, want 0", got)
	}
	if got := Power(50).Over(10 * time.Second); got != 500*Joule {
		t.Errorf("50 W over 10 s = %d µJ, want %d", got, 500*Joule)
	}
	if got := Power(-3).Over(time.Second); got != 0 {
		t.Errorf("negative power gave %d µJ", got)
	}
	if got := (3600 * Joule).WattHours(); got != 1 {
		t.Errorf("3600 J = %v Wh, want 1", got)
	}
}
