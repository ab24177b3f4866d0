package summary

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/energy"
	"github.com/greencampus/powerinput/internal/metaphor"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestGolden(t *testing.T) {
	labels := map[string]map[string]string{
		"rapl": {"en": "measured by the CPU's RAPL energy counters (rapl)", "fr": "mesurée par les compteurs d’énergie RAPL du processeur (rapl)"},
		"model": {"en": "vcpu model from CPU utilisation (model) — ESTIMATE, not a measurement",
			"fr": "modèle vcpu à partir de l’utilisation du processeur (model) — ESTIMATION, pas une mesure"},
	}
	power := map[string]float64{"rapl": 84, "model": 2.1}
	readings := map[string]func(label string) Reading{}
	for name := range labels {
		readings[name] = func(label string) Reading {
			return Reading{Label: label, Power: powerOf(power[name]), Interval: 3 * time.Second, Estimate: name == "model"}
		}
	}
	// The example: RAPL beside the wall, the metaphors counting
	// the wall (metaphor_basis auto).
	readings["wall"] = func(label string) Reading {
		return Reading{Label: label, Power: 96, Interval: 3 * time.Second, Wall: 151, WallName: "power_meter", Measured: true, FromWall: true}
	}
	// A GPU server, metaphor_basis parts.
	readings["gpu-wall"] = func(label string) Reading {
		return Reading{Label: label, Power: 126, GPU: 30, GPUs: 1, Interval: 3 * time.Second, Wall: 151, WallName: "power_meter", Measured: true}
	}
	// A GPU left out, metaphor_basis wall without a wall reading.
	readings["gpu-partial"] = func(label string) Reading {
		return Reading{Label: label, Power: 96, GPUs: 2, Partial: true, Interval: 3 * time.Second, NoMetaphors: true}
	}
	for _, name := range []string{"wall", "gpu-wall", "gpu-partial"} {
		labels[name] = labels["rapl"]
	}
	for name, byLang := range labels {
		for lang, label := range byLang {
			t.Run(name+"-"+lang, func(t *testing.T) {
				var buf bytes.Buffer
				Render(&buf, readings[name](label), metaphor.Defaults(), lang)
				golden := filepath.Join("testdata", name+"."+lang+".golden")
				if *update {
					if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (go test -update writes it)", err)
				}
				if got := buf.String(); got != string(want) {
					t.Errorf("summary differs from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
				}
			})
		}
	}
}

func powerOf(w float64) energy.Power { return energy.Power(w) }

// Large numbers are grouped by three: a comma in English, a narrow
// no-break space in French (with a decimal comma).
func TestLocalize(t *testing.T) {
	for _, c := range []struct {
		in     string
		french bool
		want   string
	}{
		{"4200", false, "4,200"},
		{"4200", true, "4\u202f200"},
		{"1234567.5", false, "1,234,567.5"},
		{"1234567.5", true, "1\u202f234\u202f567,5"},
		{"999.25", true, "999,25"},
		{"-12000", false, "-12,000"},
		{"0.033", false, "0.033"},
	} {
		if got := localize(c.in, c.french); got != c.want {
			t.Errorf("localize(%q, french %v) = %q, want %q", c.in, c.french, got, c.want)
		}
	}
}

// An estimate's figures are rounded to one significant digit below 10,
// two above.
func TestRoughly(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0.68, "0.7"}, {8.53, "9"}, {9.6, "10"}, {0.0432, "0.04"}, {63.4, "63"}, {1234, "1200"}, {0, "0"}, {-1, "0"},
	} {
		if got := roughly(c.in); got != c.want {
			t.Errorf("roughly(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The estimate says "about" on every figure it rounds; a measurement
// keeps its digits and says no "about".
func TestEstimateSaysAbout(t *testing.T) {
	for _, c := range []struct {
		estimate bool
		lang     string
		word     string
	}{{true, "en", "about "}, {true, "fr", "environ "}, {false, "en", "about "}, {false, "fr", "environ "}} {
		var buf bytes.Buffer
		Render(&buf, Reading{Label: "x", Power: 84.37, Interval: 3 * time.Second, Estimate: c.estimate}, metaphor.Defaults(), c.lang)
		out := buf.String()
		figures := strings.Count(out, " (1 = ") + 3 // each metaphor, the power, per hour, per day
		if got := strings.Count(out, c.word); c.estimate && got != figures || !c.estimate && got != 0 {
			t.Errorf("estimate=%v %s: %q %d times, want %d:\n%s", c.estimate, c.lang, c.word, got, map[bool]int{true: figures}[c.estimate], out)
		}
		if !c.estimate && !strings.Contains(out, "84.4") && !strings.Contains(out, "84,4") {
			t.Errorf("measured %s: the power lost its digits:\n%s", c.lang, out)
		}
	}
}
