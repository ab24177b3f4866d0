package summary

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/metaphor"
)

// TestEstimateBesideWall: a model-estimated machine with a measured wall
// sensor (no RAPL, an ACPI power_meter), metaphor_basis auto: the
// everyday terms count the wall, a measurement, so they keep their
// digits and no "about"; the estimate on the "beside" line is rounded and
// said to be about so. (The audit wanted no "about" anywhere: the
// estimate's own line must keep it.)
func TestEstimateBesideWall(t *testing.T) {
	var buf bytes.Buffer
	Render(&buf, Reading{Label: "model", Power: 42.37, Interval: 3 * time.Second, Wall: 151.3, WallName: "power_meter", FromWall: true, Estimate: true}, metaphor.Defaults(), "en")
	out := buf.String()
	_, terms, _ := strings.Cut(out, "everyday terms")
	if strings.Contains(terms, "about") {
		t.Errorf("the wall's measured figures are said to be about:\n%s", out)
	}
	if !strings.Contains(terms, "16.8  LED bulbs") {
		t.Errorf("the wall's 151.3 W is not 16.8 LED bulbs:\n%s", out)
	}
	if strings.Contains(out, "42.4 W") || !strings.Contains(out, "draw about 42 W") {
		t.Errorf("the estimate is not rounded and said to be about 42 W:\n%s", out)
	}
}

// TestEstimateNeverCalledMeasured: the same machine with metaphor_basis
// = "parts": the everyday terms count an estimate, said so, rounded.
func TestEstimateNeverCalledMeasured(t *testing.T) {
	for lang, want := range map[string]string{"en": "count the parts' estimate, about 42 W, not the wall socket", "fr": "comptent l’estimation des parties, environ 42 W, pas la prise murale"} {
		var buf bytes.Buffer
		Render(&buf, Reading{Label: "model", Power: 42.37, Interval: 3 * time.Second, Wall: 151.3, WallName: "power_meter", Estimate: true}, metaphor.Defaults(), lang)
		out := buf.String()
		for _, bad := range []string{"measured part by part", "mesurés partie par partie", "42.4", "42,4"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: an estimate called measured or given decimals: %q\n%s", lang, bad, out)
			}
		}
		if !strings.Contains(out, want) {
			t.Errorf("%s: no %q:\n%s", lang, want, out)
		}
	}
}

// TestRoughlyDigits: roughly keeps one significant digit below 10, also
// when rounding carries into the next decade: 0.96 is "1", not "1.0".
func TestRoughlyDigits(t *testing.T) {
	for v, want := range map[float64]string{0.96: "1", 0.096: "0.1", 9.96: "10", 99.6: "100", 0.74: "0.7", 71.4: "71"} {
		if got := roughly(v); got != want {
			t.Errorf("roughly(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestEnglishSingular: an estimate of 10 W is about 1 LED bulb (1.11
// rounded): the count as written takes the singular.
func TestEnglishSingular(t *testing.T) {
	var buf bytes.Buffer
	Render(&buf, Reading{Label: "model", Power: 10, Interval: 3 * time.Second, Estimate: true}, metaphor.Defaults(), "en")
	if !strings.Contains(buf.String(), "about 1  LED bulb (") {
		t.Errorf("no \"about 1 LED bulb\":\n%s", buf.String())
	}
}
