package main

import (
	"runtime"
	"runtime/debug"
)

// version names the build: the module version and, from a checkout, the
// commit Go recorded.
func version() string {
	s := "greenbot"
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return s + " (no build information) " + runtime.Version()
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	s += " " + v
	for _, kv := range info.Settings {
		switch {
		case kv.Key == "vcs.revision":
			s += " revision " + kv.Value
		case kv.Key == "vcs.modified" && kv.Value == "true":
			s += " (with uncommitted changes)"
		}
	}
	return s + " " + info.GoVersion + " " + runtime.GOOS + "/" + runtime.GOARCH
}
