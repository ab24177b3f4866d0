package powerinput

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/greencampus/powerinput/internal/fixtures"

	"github.com/influxdata/telegraf/testutil"
	"github.com/stretchr/testify/require"
)

func TestSampleConfigsAreEqual(t *testing.T) {
	top, err := os.ReadFile("../../../sample.conf")
	if err != nil {
		t.Fatal(err)
	}
	if string(top) != sampleConfig {
		t.Fatal("sample.conf at the top differs from the embedded plugins/inputs/powerinput/sample.conf; copy one over the other")
	}
	if _, err := ParseConfig(sampleConfig); err != nil {
		t.Fatalf("sample.conf does not load: %v", err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```toml @sample.conf\n"+sampleConfig+"```") {
		t.Fatal("README.md does not show the current sample.conf under ```toml @sample.conf")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"unknown key", "[[inputs.powerinput]]\nhost_sis = \"/sys\"\n", "unknown option(s) inputs.powerinput.host_sis"},
		{"wrong type", "[[inputs.powerinput]]\ntdp_watts = \"high\"\n", "tdp_watts"},
		{"other input", "[[inputs.cpu]]\n", `unknown input "cpu"`},
		{"two sections", "[[inputs.powerinput]]\n[[inputs.powerinput]]\n", "2 [[inputs.powerinput]] sections"},
		{"not toml", "[[inputs.powerinput]\n", "invalid configuration"},
		{"key outside the section", "host_sys = \"/sys\"\n", "unknown option(s) host_sys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(tt.text)
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestInitErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		edit func(p *PowerInput)
		want string
	}{
		{"missing host_sys", func(p *PowerInput) { p.HostSys = dir + "/nope" }, "host_sys"},
		{"unknown source", func(p *PowerInput) { p.Sources = []string{"rapl", "ipmi"} }, `unknown source "ipmi"`},
		{"no sources", func(p *PowerInput) { p.Sources = nil }, "sources is empty"},
		{"duplicate source", func(p *PowerInput) { p.Sources = []string{"rapl", "rapl"} }, `lists "rapl" twice`},
		{"negative tdp", func(p *PowerInput) { p.TDPWatts = -1 }, "tdp_watts"},
		{"vcpu min above max", func(p *PowerInput) { p.VCPUMinWatts = 5 }, "vcpu_min_watts"},
		{"negative carbon", func(p *PowerInput) { p.CarbonIntensity = -3 }, "carbon_intensity_g_per_kwh"},
		{"bad glob", func(p *PowerInput) { p.Interfaces = []string{"eth["} }, "interfaces"},
		{"cpu without cpus", func(p *PowerInput) { p.PerCPU, p.TotalCPU = false, false }, "percpu and totalcpu"},
		{"no host_dev", func(p *PowerInput) { p.HostDev = "" }, "host_dev is empty"},
		{"unknown metaphor basis", func(p *PowerInput) { p.MetaphorBasis = "rapl" }, `metaphor_basis = "rapl"`},
		{"wall sensor not a sensor name", func(p *PowerInput) { p.WallSensor = "power meter" }, `wall_sensor = "power meter"`},
		{"wall sensor with two slashes", func(p *PowerInput) { p.WallSensor = "a/b/c" }, "wall_sensor"},
		{"top_n 0", func(p *PowerInput) { p.TopN = 0 }, "top_n"},
		{"min_share 1", func(p *PowerInput) { p.MinShare = 1 }, "min_share"},
		{"negative min_share", func(p *PowerInput) { p.MinShare = -0.1 }, "min_share"},
		{"fewer names a day than top_n", func(p *PowerInput) { p.TopN, p.MaxNamesPerDay = 20, 10 }, "max_names_per_day"},
		{"too many names a day", func(p *PowerInput) { p.MaxNamesPerDay = 100000 }, "max_names_per_day"},
		{"empty qemu user", func(p *PowerInput) { p.VMQemuUser = Users{""} }, `vm_qemu_user = [""]`},
		{"qemu user with a colon", func(p *PowerInput) { p.VMQemuUser = Users{"qemu:x"} }, `"qemu:x" is no user name`},
		{"negative qemu uid", func(p *PowerInput) { p.VMQemuUser = Users{"-1"} }, "user ID -1 is out of range"},
		{"huge qemu uid", func(p *PowerInput) { p.VMQemuUser = Users{"4294967295"} }, "out of range"},
		{"no host_etc", func(p *PowerInput) { p.HostEtc = "" }, "host_etc = \"\": want an absolute path"},
		{"relative host_etc", func(p *PowerInput) { p.HostEtc = "etc" }, "host_etc = \"etc\": want an absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New()
			p.HostSys, p.HostProc, p.HostDev = dir, dir, dir
			p.Log = testutil.Logger{}
			tt.edit(p)
			err := p.Init()
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

// A wall sensor is named as -doctor names sensors; "" is none.
func TestWallSensorNames(t *testing.T) {
	for name, ok := range map[string]bool{"power_meter": true, "ina3221/power2": true, "corsair_psu": true, "": false,
		"power-meter": false, "a/": false, "/b": false, "a b": false} {
		require.Equal(t, ok, validSensorName(name), "validSensorName(%q)", name)
	}
	dir := t.TempDir()
	p := New()
	p.HostSys, p.HostProc, p.HostDev, p.WallSensor = dir, dir, dir, ""
	p.Log = testutil.Logger{Quiet: true}
	require.NoError(t, p.Init(), "no wall sensor at all")
}

func FuzzParseConfig(f *testing.F) {
	for _, b := range fixtures.Files("config.toml") {
		f.Add("[[inputs.powerinput]]\n" + string(b))
	}
	f.Add(sampleConfig)
	f.Add("[[inputs.powerinput]]\nsources = [\"vm\", \"model\"]\ntdp_watts = 95.0\n")
	f.Add("[[inputs.powerinput]]\n[[inputs.powerinput.metaphor]]\nfield = \"x\"\nlabel = \"x\"\nwatts = 1.0\n")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := ParseConfig(text)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v does not wrap ErrConfig", err)
			}
			return
		}
		// Whatever decodes must either start or say why not, never panic.
		p.HostSys, p.HostProc, p.HostDev = t.TempDir(), t.TempDir(), t.TempDir()
		p.Log = testutil.Logger{Quiet: true}
		if err := p.Init(); err != nil && !errors.Is(err, ErrConfig) {
			t.Fatalf("Init error %v does not wrap ErrConfig", err)
		}
	})
}

// Environment variables are expanded inside string values only, after the
// TOML is read: a value from the environment cannot change the TOML around
// it, "$5" in a label stays, and $$ is a dollar.
func TestEnvironmentInStrings(t *testing.T) {
	env := map[string]string{"SYS": "/host/sys", "EVIL": "x\"\nsources = [\"model\"]\n#"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct{ in, want string }{
		{"$SYS", "/host/sys"},
		{"${SYS}/x", "/host/sys/x"},
		{"costs $5", "costs $5"},
		{"$UNSET stays", "$UNSET stays"},
		{"$$SYS", "$SYS"},
		{"${SYS", "${SYS"},
		{"end $", "end $"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, ExpandEnv(tt.in, lookup), "ExpandEnv(%q)", tt.in)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	p, err := ParseConfig("[[inputs.powerinput]]\nhost_sys = \"$SYS\"\nvm_powercap_path = \"$EVIL\"\n" +
		"[[inputs.powerinput.metaphor]]\nfield = \"x\"\nlabel = \"costs $5\"\nwatts = 1.0\n")
	require.NoError(t, err)
	require.Equal(t, "/host/sys", p.HostSys)
	require.Equal(t, env["EVIL"], p.VMPowercapPath, "the value is data")
	require.Equal(t, []string{"rapl", "msr", "vm", "model"}, p.Sources, "the environment did not add an option")
	require.Equal(t, "costs $5", p.Metaphors[0].Label)
}

func TestReadTimeoutForms(t *testing.T) {
	for text, want := range map[string]time.Duration{`"250ms"`: 250 * time.Millisecond, `2`: 2 * time.Second, `0.5`: 500 * time.Millisecond} {
		p, err := ParseConfig("[[inputs.powerinput]]\nread_timeout = " + text + "\n")
		require.NoError(t, err, text)
		require.Equal(t, want, time.Duration(p.ReadTimeout), text)
	}
	for _, text := range []string{`"soon"`, `-3`, `true`} {
		_, err := ParseConfig("[[inputs.powerinput]]\nread_timeout = " + text + "\n")
		require.ErrorIs(t, err, ErrConfig, text)
		require.ErrorContains(t, err, "read_timeout", text)
	}
}
