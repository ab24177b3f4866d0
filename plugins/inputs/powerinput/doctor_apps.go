package powerinput

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/greencampus/powerinput/internal/guard"

	"github.com/greencampus/powerinput/internal/cgroup"
	"github.com/greencampus/powerinput/internal/procs"
)

// appsDoctor says, for services and processes where they are on, whether
// their files can be read here. It does not change Doctor's exit code:
// that is about power.
func (p *PowerInput) appsDoctor(w io.Writer) {
	// The checks read as a gather does, under a deadline each, so a hung
	// mount makes -doctor say so instead of hanging it.
	var g guard.Guard
	var out bytes.Buffer
	if err := g.Do(time.Now().Add(time.Duration(p.ReadTimeout)), func() { p.checkApps(&out) }); err != nil {
		fmt.Fprintf(w, "%-9s unavailable: the control groups or /proc %v\n", "services", err)
		return
	}
	w.Write(out.Bytes())
}

func (p *PowerInput) checkApps(w io.Writer) {
	if p.Services {
		h, err := cgroup.Find(p.Roots().Sys)
		if err == nil {
			wk := cgroup.NewWalker(h)
			var res *cgroup.WalkResult
			if res, err = wk.Walk(); err == nil {
				version := "v1 cpuacct"
				if h.V2 {
					version = "v2"
				}
				fmt.Fprintf(w, "%-9s works: %d workloads in %s (cgroup %s)", "services", len(res.Workloads), h.Dir, version)
				if res.Unreadable > 0 {
					fmt.Fprintf(w, "; %d unreadable, the first: %v", res.Unreadable, res.Err)
				}
				fmt.Fprintln(w)
			}
			wk.Close()
		}
		if err != nil {
			fmt.Fprintf(w, "%-9s unavailable: %v\n%-9s fix: set host_sys to the host's sysfs, with its cgroup file system mounted at fs/cgroup\n", "services", err, "")
		}
	}
	if p.processes != nil {
		s := procs.NewScanner(p.Roots().Proc, procs.Options{Files: -1})
		res, err := s.Scan()
		s.Close()
		switch {
		case err != nil:
			fmt.Fprintf(w, "%-9s unavailable: %v\n%-9s fix: set host_proc to the host's procfs\n", "processes", err, "")
		case res.Unreadable > 0:
			fmt.Fprintf(w, "%-9s works: %d processes under %s; %d unreadable (a procfs mounted with hidepid hides other users' processes), the first: %v\n", "processes", res.Processes, p.HostProc, res.Unreadable, res.Err)
		default:
			fmt.Fprintf(w, "%-9s works: %d processes under %s\n", "processes", res.Processes, p.HostProc)
		}
	}
}
