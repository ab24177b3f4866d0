package summary

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
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
