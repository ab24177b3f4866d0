package main

import (
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVersionOf(t *testing.T) {
	for _, tt := range []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"a checkout with changes", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261125193944-fb7360ecbae5+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "fb7360ecbae5478d5a7f66d809b7734d435b10d8"}, {Key: "vcs.time", Value: "2026-11-25T19:39:44Z"}, {Key: "vcs.modified", Value: "true"}}},
			"powerinput v0.0.0-20261125193944-fb7360ecbae5+dirty (revision fb7360ecbae5478d5a7f66d809b7734d435b10d8, 2026-11-25T19:39:44Z, with uncommitted changes) go1.26.8 linux/amd64"},
		{"a published version", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.2.0"}},
			"powerinput v0.2.0 (no revision recorded) go1.26.8 linux/amd64"},
		{"a tree without version control", debug.BuildInfo{GoVersion: "go1.26.8"},
			"powerinput (devel) (no revision recorded) go1.26.8 linux/amd64"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, versionOf(&tt.info, "linux/amd64"))
		})
	}
}

// The built binary's -version names the module and the commit it was
// built from (the test binary is built in this checkout with -buildvcs).
func TestVersionFlag(t *testing.T) {
	out, err := exec.Command(buildBinary(t), "-version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	line := strings.TrimSpace(string(out))
	require.Equal(t, 1, strings.Count(string(out), "\n"), "one line: %q", out)
	require.True(t, strings.HasPrefix(line, "powerinput "), "%q", line)
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("skipped the revision check: not in a git checkout (%v)", err)
	}
	dirs, err := exec.Command("git", "rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir").Output()
	if f := strings.Fields(string(dirs)); err != nil || len(f) != 2 || f[0] != f[1] {
		// Go reads the commit only where .git is a folder (Go issue 58218).
		t.Skipf("skipped the revision check: a linked git worktree, whose commit Go does not record")
	}
	require.Contains(t, line, "revision "+strings.TrimSpace(string(rev)))
}
