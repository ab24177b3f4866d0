package powerinput

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// LoadConfig reads the shim's configuration file: one [[inputs.powerinput]]
// section. Environment variables ($VAR, ${VAR}) are expanded as the shim
// does. An empty path gives the defaults.
func LoadConfig(path string) (*PowerInput, error) {
	if path == "" {
		return New(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	p, err := ParseConfig(os.Expand(string(b), os.Getenv))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParseConfig decodes a configuration. Unlike the execd shim, which ignores
// what it does not know, it refuses unknown keys and naming them, as
// Telegraf itself does, so a mistyped option is never silently dropped.
func ParseConfig(text string) (*PowerInput, error) {
	var conf struct {
		Inputs map[string][]toml.Primitive `toml:"inputs"`
	}
	md, err := toml.Decode(text, &conf)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	p := New()
	for name, sections := range conf.Inputs {
		if name != "powerinput" {
			return nil, fmt.Errorf("unknown input %q (this program runs inputs.powerinput only): %w", name, ErrConfig)
		}
		if len(sections) != 1 {
			return nil, fmt.Errorf("%d [[inputs.powerinput]] sections, want one: %w", len(sections), ErrConfig)
		}
		if err := md.PrimitiveDecode(sections[0], p); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	var unknown []string
	for _, k := range md.Undecoded() {
		unknown = append(unknown, k.String())
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown option(s) %s: %w", strings.Join(unknown, ", "), ErrConfig)
	}
	return p, nil
}
