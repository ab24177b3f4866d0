package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version says which build this is, from what the Go toolchain recorded in
// the binary: the module's version (a tag, a pseudo-version made from the
// commit, or "(devel)") and, where the build was made in a checkout, the
// commit, its time and whether the tree held changes.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Sprintf("powerinput (no build information) %s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	return versionOf(info, runtime.GOOS+"/"+runtime.GOARCH)
}

func versionOf(info *debug.BuildInfo, platform string) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	var vcs []string
	if rev := settings["vcs.revision"]; rev != "" {
		vcs = append(vcs, "revision "+rev)
		if t := settings["vcs.time"]; t != "" {
			vcs = append(vcs, t)
		}
		if settings["vcs.modified"] == "true" {
			vcs = append(vcs, "with uncommitted changes")
		}
	} else {
		vcs = append(vcs, "no revision recorded")
	}
	return fmt.Sprintf("powerinput %s (%s) %s %s", v, strings.Join(vcs, ", "), info.GoVersion, platform)
}
