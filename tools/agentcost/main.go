// Command agentcost measures what a whole monitoring agent costs on this
// machine, side by side in one run: Telegraf with its native cpu and net
// inputs, and Telegraf running powerinput through execd with everything
// on (power, cpu, net, services, processes). They run at the same time,
// at the same interval, with the same Telegraf binary and a discard
// output, on a machine loaded with at least -procs processes and -groups
// control groups (made for the run, as root). A third agent, powerinput
// without services and processes, shows what they add. It prints, per
// agent, the CPU time of Telegraf and its children per gather (utime +
// stime from /proc/<pid>/stat, children included) and their resident
// memory.
//
//	go run ./tools/agentcost -telegraf PATH -powerinput PATH [-duration 3m]
//
// make cost builds a Telegraf with the inputs it needs and runs it.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	telegraf := flag.String("telegraf", "", "Telegraf v1.37.2 built with inputs.cpu, inputs.net, inputs.execd and outputs.discard")
	powerinput := flag.String("powerinput", "", "the powerinput binary")
	duration := flag.Duration("duration", 3*time.Minute, "how long both agents are measured")
	warmup := flag.Duration("warmup", 15*time.Second, "how long both agents run before measuring")
	interval := flag.Duration("interval", time.Second, "the agents' interval")
	procs := flag.Int("procs", 1000, "processes the machine has at least during the run (sleeping ones are started)")
	groups := flag.Int("groups", 200, "control groups made for the run (root and cgroup v2 needed)")
	flag.Parse()
	if *telegraf == "" || *powerinput == "" {
		fmt.Fprintln(os.Stderr, "agentcost: -telegraf and -powerinput are needed")
		os.Exit(2)
	}
	if err := run(*telegraf, *powerinput, *duration, *warmup, *interval, *procs, *groups); err != nil {
		fmt.Fprintln(os.Stderr, "agentcost:", err)
		os.Exit(1)
	}
}

func run(telegraf, powerinput string, duration, warmup, interval time.Duration, procs, groups int) error {
	dir, err := os.MkdirTemp("", "agentcost-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	load, err := newLoad(procs, groups)
	defer load.close()
	if err != nil {
		return err
	}

	agentConf := fmt.Sprintf(`[agent]
  interval = %q
  round_interval = false
  flush_interval = "10s"
  collection_jitter = "0s"
  flush_jitter = "0s"
  omit_hostname = false
  logfile = ""
[[outputs.discard]]
`, interval)
	native := agentConf + `[[inputs.cpu]]
  percpu = true
  totalcpu = true
[[inputs.net]]
`
	execd := func(conf string) (string, error) {
		pconf := filepath.Join(dir, fmt.Sprintf("powerinput%d.conf", len(conf)))
		if err := os.WriteFile(pconf, []byte("[[inputs.powerinput]]\ncarbon_intensity_g_per_kwh = 56.0\n"+conf), 0o644); err != nil {
			return "", err
		}
		return agentConf + fmt.Sprintf(`[[inputs.execd]]
  command = [%q, "-config", %q, "-poll_interval_disabled"]
  signal = "STDIN"
  restart_delay = "10s"
  data_format = "influx"
`, powerinput, pconf), nil
	}
	everything, err := execd("services = true\nprocesses = true\n")
	if err != nil {
		return err
	}
	plain, err := execd("")
	if err != nil {
		return err
	}
	agents := []*agent{
		{name: "Telegraf, native cpu + net", conf: native},
		{name: "Telegraf + powerinput (execd: power, cpu, net, services, processes)", conf: everything, child: "powerinput"},
		{name: "Telegraf + powerinput (execd: power, cpu, net; for reference)", conf: plain, child: "powerinput"},
	}
	for i, a := range agents {
		path := filepath.Join(dir, fmt.Sprintf("agent%d.conf", i))
		if err := os.WriteFile(path, []byte(a.conf), 0o644); err != nil {
			return err
		}
		a.log = filepath.Join(dir, fmt.Sprintf("agent%d.log", i))
		logf, err := os.Create(a.log)
		if err != nil {
			return err
		}
		a.cmd = exec.Command(telegraf, "--config", path)
		a.cmd.Stdout, a.cmd.Stderr = logf, logf
		a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := a.cmd.Start(); err != nil {
			return fmt.Errorf("start telegraf: %w", err)
		}
		defer a.stop()
	}
	fmt.Fprintf(os.Stderr, "agentcost: %d processes, %d control groups; warming up %s, then measuring %s at %s\n", countProcs(), load.made, warmup, duration, interval)
	time.Sleep(warmup)
	for _, a := range agents {
		if a.child != "" && a.childPID() == 0 {
			return fmt.Errorf("%s: no %s child running; see %s", a.name, a.child, a.log)
		}
		a.cpu0 = a.cpuTime()
	}
	start := time.Now()
	for time.Since(start) < duration {
		time.Sleep(5 * time.Second)
		for _, a := range agents {
			a.rss = append(a.rss, a.rssKiB())
		}
	}
	elapsed := time.Since(start)
	gathers := elapsed.Seconds() / interval.Seconds()
	fmt.Printf("Whole agent on this machine (%d CPUs, %s), side by side in one run: interval %s, %s measured after %s, %d processes, %d control groups made for the run.\n\n",
		numCPU(), kernel(), interval, elapsed.Round(time.Second), warmup, countProcs(), load.made)
	fmt.Println("| agent | CPU per gather (agent + children) | of which the child | resident memory (median, max) |")
	fmt.Println("|---|---|---|---|")
	for _, a := range agents {
		c := a.cpuTime()
		total := c.total - a.cpu0.total
		child := c.child - a.cpu0.child
		childCol := "-"
		if a.child != "" {
			childCol = fmt.Sprintf("%.0f µs", float64(child.Microseconds())/gathers)
		}
		slices.Sort(a.rss)
		med, hi := 0, 0
		if len(a.rss) > 0 {
			med, hi = a.rss[len(a.rss)/2], a.rss[len(a.rss)-1]
		}
		fmt.Printf("| %s | %.0f µs | %s | %.1f MiB, %.1f MiB |\n", a.name, float64(total.Microseconds())/gathers, childCol, float64(med)/1024, float64(hi)/1024)
	}
	return nil
}

type agent struct {
	name, conf, child, log string
	cmd                    *exec.Cmd
	cpu0                   cpuTimes
	rss                    []int // KiB, agent and children
}

type cpuTimes struct{ total, child time.Duration }

func (a *agent) stop() {
	if a.cmd == nil || a.cmd.Process == nil {
		return
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { a.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		a.cmd.Process.Kill()
		<-done
	}
}

// children are the agent's direct children's PIDs.
func (a *agent) children() []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(pid); len(f) > 1 && f[1] == strconv.Itoa(a.cmd.Process.Pid) {
			out = append(out, pid)
		}
	}
	return out
}

func (a *agent) childPID() int {
	for _, pid := range a.children() {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) == a.child {
			return pid
		}
	}
	return 0
}

// cpuTime is the agent's CPU time with its children's: those running
// (their utime + stime) and those it has waited for (cutime + cstime).
func (a *agent) cpuTime() cpuTimes {
	f := statFields(a.cmd.Process.Pid)
	var c cpuTimes
	c.total = ticks(f, 11) + ticks(f, 12) + ticks(f, 13) + ticks(f, 14)
	for _, pid := range a.children() {
		cf := statFields(pid)
		t := ticks(cf, 11) + ticks(cf, 12) + ticks(cf, 13) + ticks(cf, 14)
		c.total += t
		c.child += t
	}
	return c
}

func (a *agent) rssKiB() int {
	kib := rss(a.cmd.Process.Pid)
	for _, pid := range a.children() {
		kib += rss(pid)
	}
	return kib
}

// statFields are the fields of /proc/<pid>/stat after the name: state
// first, then ppid (1), …, utime (11), stime (12), cutime (13), cstime (14).
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

func ticks(f []string, i int) time.Duration {
	if i >= len(f) {
		return 0
	}
	n, _ := strconv.ParseInt(f[i], 10, 64)
	return time.Duration(n) * 10 * time.Millisecond // USER_HZ = 100
}

func rss(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}

func countProcs() int {
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			n++
		}
	}
	return n
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/stat")
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "cpu") && !strings.HasPrefix(l, "cpu ") {
			n++
		}
	}
	return n
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return "Linux " + strings.TrimSpace(string(b))
}

// load is what the run adds to the machine: sleeping processes, and
// control groups (services, containers, pods, users) holding them.
type load struct {
	kids []*exec.Cmd
	base string
	dirs []string
	made int
}

func newLoad(procs, groups int) (*load, error) {
	l := &load{}
	for range max(0, procs-countProcs()) {
		k := exec.Command("sleep", "86400")
		k.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := k.Start(); err != nil {
			return l, fmt.Errorf("start sleeping processes: %w", err)
		}
		l.kids = append(l.kids, k)
	}
	if groups == 0 {
		return l, nil
	}
	root := ""
	for _, d := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if _, err := os.Stat(filepath.Join(d, "cgroup.controllers")); err == nil {
			root = d
			break
		}
	}
	if root == "" {
		fmt.Fprintln(os.Stderr, "agentcost: no cgroup v2 hierarchy: no control groups made")
		return l, nil
	}
	base, err := os.MkdirTemp(root, "agentcost-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "agentcost: cannot make control groups (%v): none made\n", err)
		return l, nil
	}
	l.base = base
	for i := range groups {
		var rel string
		switch {
		case i < groups*3/4:
			rel = fmt.Sprintf("system.slice/svc%03d.service", i)
		case i < groups*9/10:
			rel = fmt.Sprintf("system.slice/docker-%064x.scope", i)
		case i < groups*19/20:
			rel = fmt.Sprintf("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%08x_0000_4000_8000_%012x.slice", i, i)
		default:
			rel = fmt.Sprintf("user.slice/user-%d.slice", 1000+i)
		}
		path := base
		for _, part := range strings.Split(rel, "/") {
			path = filepath.Join(path, part)
			if err := os.Mkdir(path, 0o755); err == nil {
				l.dirs = append(l.dirs, path)
			} else if !errors.Is(err, os.ErrExist) {
				return l, err
			}
		}
		l.made++
		// The sleeping processes go into the groups, some in each, as a
		// systemd host's processes are in their services.
		for k := i; k < len(l.kids); k += groups {
			os.WriteFile(filepath.Join(path, "cgroup.procs"), []byte(strconv.Itoa(l.kids[k].Process.Pid)), 0o644)
		}
	}
	return l, nil
}

func (l *load) close() {
	for _, k := range l.kids {
		k.Process.Kill()
		k.Wait()
	}
	for i := len(l.dirs) - 1; i >= 0; i-- {
		syscall.Rmdir(l.dirs[i])
	}
	if l.base != "" {
		syscall.Rmdir(l.base)
	}
}
