package hwmon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/greencampus/powerinput/internal/fixtures"
	"github.com/greencampus/powerinput/internal/kfile"
	"github.com/greencampus/powerinput/internal/lineproto"
)

func TestParseChannel(t *testing.T) {
	tests := []struct {
		in    string
		kind  Kind
		index int
		ok    bool
	}{
		{"power1_average", Average, 1, true},
		{"power1_input", Input, 1, true},
		{"power12_input", Input, 12, true},
		{"energy1_input", Energy, 1, true},
		{"energy2_input", Energy, 2, true},
		{"power1_average_interval", 0, 0, false},
		{"power1_average_interval_max", 0, 0, false},
		{"power1_cap", 0, 0, false},
		{"power1_label", 0, 0, false},
		{"energy1_label", 0, 0, false},
		{"energy1_enable", 0, 0, false},
		{"energy1_average", 0, 0, false},
		{"power0_input", 0, 0, false},
		{"power01_input", 0, 0, false},
		{"power1000_input", 0, 0, false},
		{"power_input", 0, 0, false},
		{"power1", 0, 0, false},
		{"powerx_input", 0, 0, false},
		{"temp1_input", 0, 0, false},
		{"name", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		k, i, ok := ParseChannel(tt.in)
		require.Equal(t, tt.ok, ok, "ParseChannel(%q)", tt.in)
		require.Equal(t, tt.kind, k, "ParseChannel(%q)", tt.in)
		require.Equal(t, tt.index, i, "ParseChannel(%q)", tt.in)
	}
}

func FuzzParseChannel(f *testing.F) {
	for _, n := range fixtures.Names("power*", "energy*") {
		f.Add(n)
	}
	for _, s := range []string{"power1_average", "energy1_input", "power1_average_interval", "power99_input", "power1_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		k, i, ok := ParseChannel(name)
		if !ok {
			if k != 0 || i != 0 {
				t.Fatalf("ParseChannel(%q) = %v, %d, not ok", name, k, i)
			}
			return
		}
		if i < 1 || i > maxIndex {
			t.Fatalf("ParseChannel(%q): index %d", name, i)
		}
		// A channel prints back as the file it came from.
		c := Channel{Kind: k, Index: i}
		want := c.Name() + "_" + map[Kind]string{Energy: "input", Average: "average", Input: "input"}[k]
		if want != name {
			t.Fatalf("ParseChannel(%q) = %v %d, which is %q", name, k, i, want)
		}
	})
}

func TestSanitizeName(t *testing.T) {
	tests := map[string]string{
		"power_meter\n":         "power_meter",
		"ina3221":               "ina3221",
		"corsair-psu":           "corsair_psu",
		"a b,c=d\\":             "a_b_c_d_",
		"":                      "hwmon",
		"\n":                    "hwmon",
		"é":                     "__",
		strings.Repeat("x", 40): strings.Repeat("x", 32),
	}
	for in, want := range tests {
		require.Equal(t, want, SanitizeName([]byte(in)), "SanitizeName(%q)", in)
	}
	require.Equal(t, "PPT", SanitizeLabel([]byte("PPT\n")))
	require.Equal(t, "a?b", SanitizeLabel([]byte("a\x00b")))
}

func FuzzSanitizeName(f *testing.F) {
	for _, b := range fixtures.Files("name", "*_label") {
		f.Add(b)
	}
	f.Add([]byte("power_meter\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := SanitizeName(b)
		if s == "" || len(s) > maxName {
			t.Fatalf("SanitizeName(%q) = %q", b, s)
		}
		if err := lineproto.CheckTagValue(s); err != nil {
			t.Fatalf("SanitizeName(%q) = %q: %v", b, s, err)
		}
		if strings.ContainsAny(s, " ,=/") {
			t.Fatalf("SanitizeName(%q) = %q", b, s)
		}
		l := SanitizeLabel(b)
		if !utf8.ValidString(l) || len(l) > maxName {
			t.Fatalf("SanitizeLabel(%q) = %q", b, l)
		}
	})
}

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		path := filepath.Join(root, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		if strings.HasSuffix(name, "/") {
			continue
		}
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
	return root
}

// A rack server's ACPI power meter, a board's three-rail monitor, a CPU
// energy driver, an amdgpu that registered in class/hwmon too, a
// temperature sensor, and a device of the legacy layout.
func TestPlatform(t *testing.T) {
	root := tree(t, map[string]string{
		"class/hwmon/hwmon0/name":                    "acpitz\n",
		"class/hwmon/hwmon0/temp1_input":             "27800\n",
		"class/hwmon/hwmon1/name":                    "power_meter\n",
		"class/hwmon/hwmon1/power1_average":          "151000000\n",
		"class/hwmon/hwmon1/power1_average_interval": "1000\n",
		"class/hwmon/hwmon1/power1_model_number":     "PWS-1600\n",
		"class/hwmon/hwmon1/power1_is_battery":       "0\n",
		"class/hwmon/hwmon2/name":                    "ina3221\n",
		"class/hwmon/hwmon2/power1_input":            "5000000\n",
		"class/hwmon/hwmon2/power2_input":            "3000000\n",
		"class/hwmon/hwmon2/power2_average":          "2900000\n",
		"class/hwmon/hwmon2/power2_label":            "VDD_SOC\n",
		"class/hwmon/hwmon3/name":                    "amd_energy\n",
		"class/hwmon/hwmon3/energy1_input":           "123\n",
		"class/hwmon/hwmon4/name":                    "amdgpu\n",
		"class/hwmon/hwmon4/power1_average":          "30000000\n",
		"class/hwmon/hwmon10/name":                   "ina238\n",
		"class/hwmon/hwmon10/power1_input":           "1000000\n",
		"class/hwmon/hwmon10/energy1_input":          "5000000\n",
		"class/hwmon/hwmon5/device/power1_input":     "1\n",
	})
	devs, skips, err := Platform(kfile.SysRoot(root))
	require.NoError(t, err)
	dir := filepath.Join(root, "class", "hwmon")
	require.Equal(t, []Device{
		{Dir: filepath.Join(dir, "hwmon1"), Name: "power_meter", Channels: []Channel{
			{Kind: Average, Index: 1, Path: filepath.Join(dir, "hwmon1", "power1_average"), Averaging: time.Second}}},
		{Dir: filepath.Join(dir, "hwmon2"), Name: "ina3221", Channels: []Channel{
			{Kind: Average, Index: 2, Path: filepath.Join(dir, "hwmon2", "power2_average"), Label: "VDD_SOC"},
			{Kind: Input, Index: 1, Path: filepath.Join(dir, "hwmon2", "power1_input")}}},
		{Dir: filepath.Join(dir, "hwmon10"), Name: "ina238", Channels: []Channel{
			{Kind: Energy, Index: 1, Path: filepath.Join(dir, "hwmon10", "energy1_input")}}},
	}, devs)
	require.Len(t, skips, 1)
	require.Contains(t, skips[0].Why, "amd_energy measures the CPUs")

	_, _, err = Platform(kfile.SysRoot(t.TempDir()))
	require.ErrorIs(t, err, ErrNoHwmon)
}

// An amdgpu card, an Intel xe card (its card and package energy: the
// package lies inside the card), an AMD APU, a display connector and a
// virtual card without hwmon.
func TestGPUs(t *testing.T) {
	root := tree(t, map[string]string{
		"class/drm/card0/device/hwmon/hwmon3/name":           "amdgpu\n",
		"class/drm/card0/device/hwmon/hwmon3/power1_average": "30000000\n",
		"class/drm/card0/device/hwmon/hwmon3/power1_input":   "31000000\n",
		"class/drm/card0/device/hwmon/hwmon3/power1_label":   "PPT\n",
		"class/drm/card0/device/hwmon/hwmon3/power1_cap":     "200000000\n",
		"class/drm/card0/device/power/runtime_status":        "active\n",
		"class/drm/card0-DP-1/status":                        "connected\n",
		"class/drm/card1/device/hwmon/hwmon5/name":           "xe\n",
		"class/drm/card1/device/hwmon/hwmon5/energy1_input":  "1000\n",
		"class/drm/card1/device/hwmon/hwmon5/energy2_input":  "900\n",
		"class/drm/card1/device/hwmon/hwmon5/energy2_label":  "pkg\n",
		"class/drm/card1/device/hwmon/hwmon5/energy1_label":  "card\n",
		"class/drm/card2/device/hwmon/hwmon6/name":           "amdgpu\n",
		"class/drm/card2/device/hwmon/hwmon6/power1_average": "15000000\n",
		"class/drm/card2/device/hwmon/hwmon6/power1_label":   "slowPPT\n",
		"class/drm/card3/device/vendor":                      "0x1af4\n",
		"class/drm/renderD128/device/":                       "",
	})
	gpus, skips, err := GPUs(kfile.SysRoot(root))
	require.NoError(t, err)
	drm := filepath.Join(root, "class", "drm")
	require.Equal(t, []GPU{
		{Card: 0, Device: Device{Dir: filepath.Join(drm, "card0/device/hwmon/hwmon3"), Name: "amdgpu", Channels: []Channel{
			{Kind: Average, Index: 1, Path: filepath.Join(drm, "card0/device/hwmon/hwmon3/power1_average"), Label: "PPT"}}},
			RuntimeStatus: filepath.Join(drm, "card0/device/power/runtime_status")},
		{Card: 1, Device: Device{Dir: filepath.Join(drm, "card1/device/hwmon/hwmon5"), Name: "xe", Channels: []Channel{
			{Kind: Energy, Index: 1, Path: filepath.Join(drm, "card1/device/hwmon/hwmon5/energy1_input"), Label: "card"}}},
			RuntimeStatus: filepath.Join(drm, "card1/device/power/runtime_status")},
	}, gpus)
	require.Equal(t, "amdgpu", gpus[0].Driver())
	require.Len(t, skips, 1)
	require.Contains(t, skips[0].Why, "APU")

	gpus, skips, err = GPUs(kfile.SysRoot(t.TempDir()))
	require.NoError(t, err)
	require.Empty(t, gpus)
	require.Empty(t, skips)
}

func TestNaturalOrder(t *testing.T) {
	names := []string{"hwmon10", "hwmon2", "hwmon1", "card1", "card0"}
	for i := range names {
		for j := range names {
			if naturalLess(names[i], names[j]) != -naturalLess(names[j], names[i]) {
				t.Fatalf("naturalLess is not antisymmetric on %q, %q", names[i], names[j])
			}
		}
	}
	require.Equal(t, -1, naturalLess("hwmon2", "hwmon10"))
	require.Equal(t, 1, naturalLess("hwmon", "card"))
}

// The ACPI power meter registers the old way: its name and values are the
// ACPI device's attributes, under hwmonN/device. NVIDIA's Grace Hopper has
// four per socket, told apart by power1_oem_info.
func TestLegacyLayout(t *testing.T) {
	files := map[string]string{}
	for i, what := range []string{"Module", "Grace", "CPU", "SysIO"} {
		dir := "class/hwmon/hwmon" + string(rune('1'+i)) + "/device/"
		files[dir+"name"] = "power_meter\n"
		files[dir+"power1_average"] = "100000000\n"
		files[dir+"power1_average_interval"] = "50\n"
		files[dir+"power1_oem_info"] = what + " Power Socket 0\n"
	}
	root := tree(t, files)
	devs, _, err := Platform(kfile.SysRoot(root))
	require.NoError(t, err)
	require.Len(t, devs, 4)
	for i, what := range []string{"Module", "Grace", "CPU", "SysIO"} {
		d := devs[i]
		require.Equal(t, "power_meter", d.Name)
		require.Equal(t, filepath.Join(root, "class/hwmon/hwmon"+string(rune('1'+i))), d.Dir)
		require.Equal(t, []Channel{{Kind: Average, Index: 1, Path: filepath.Join(d.Dir, "device", "power1_average"),
			Label: what + " Power Socket 0", Averaging: 50 * time.Millisecond}}, d.Channels)
	}
}
