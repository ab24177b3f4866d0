// Command agentcost measures what a whole monitoring agent costs on this
// machine, side by side in one run: Telegraf idle (its mem input only),
// Telegraf with its native cpu and net inputs, Telegraf running powerinput
// through execd with its defaults (power, cpu, net), and with everything on
// (services, processes, VMs). All run at the same time, at the same
// interval, with the same Telegraf binary and a discard output, on this
// machine's real /proc and cgroup file system, loaded for the run: at least
// -procs processes, -groups control groups holding sleeping processes,
// -waking of them holding a process that wakes at the shortest interval,
// and -vms
// groups named as libvirt names a VM's, each holding a waking process. It
// prints, per agent and interval, the CPU time of Telegraf and its children
// per gather (the threads' run time from /proc/<pid>/task/*/schedstat),
// median and spread of -rounds rounds, its ratio to the native inputs, and
// powerinput's resident memory (peak).
//
//	go run ./tools/agentcost -telegraf PATH -powerinput PATH [-round 20s] [-rounds 5] [-intervals 100ms,1s]
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
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	telegraf := flag.String("telegraf", "", "Telegraf v1.37.2 built with inputs.cpu, inputs.mem, inputs.net, inputs.execd and outputs.discard")
	powerinput := flag.String("powerinput", "", "the powerinput binary")
	round := flag.Duration("round", 20*time.Second, "how long each round measures")
	rounds := flag.Int("rounds", 5, "rounds per interval")
	warmup := flag.Duration("warmup", 10*time.Second, "how long the agents run before the first round")
	intervals := flag.String("intervals", "100ms,1s", "the agents' intervals, one run each")
	procs := flag.Int("procs", 1000, "processes the machine has at least during the run (sleeping ones are started)")
	groups := flag.Int("groups", 200, "control groups made for the run (root and cgroup v2 needed)")
	waking := flag.Int("waking", 20, "of those groups, how many hold a process that wakes at every interval")
	vms := flag.Int("vms", 10, "groups made as libvirt makes a VM's, each with a waking process")
	before := flag.String("before", "", "another powerinput binary (an older build), measured beside the first")
	hold := flag.Bool("hold", false, "make the load, then hold it until interrupted, measuring nothing (to profile by hand)")
	wake := flag.Duration("wake", 0, "internal: be a waking process, with this period")
	flag.Parse()
	if *wake > 0 {
		wakeEvery(*wake)
	}
	if *hold {
		if err := holdLoad(*procs, *groups, *waking, *vms); err != nil {
			fmt.Fprintln(os.Stderr, "agentcost:", err)
			os.Exit(1)
		}
		return
	}
	if *telegraf == "" || *powerinput == "" {
		fmt.Fprintln(os.Stderr, "agentcost: -telegraf and -powerinput are needed")
		os.Exit(2)
	}
	var ivs []time.Duration
	for _, f := range strings.Split(*intervals, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			fmt.Fprintf(os.Stderr, "agentcost: -intervals %q: want durations such as 100ms,1s\n", *intervals)
			os.Exit(2)
		}
		ivs = append(ivs, d)
	}
	c := costRun{telegraf: *telegraf, powerinput: *powerinput, before: *before, round: *round, rounds: max(1, *rounds), warmup: *warmup}
	if err := c.run(ivs, *procs, *groups, *waking, *vms); err != nil {
		fmt.Fprintln(os.Stderr, "agentcost:", err)
		os.Exit(1)
	}
}

// wakeEvery is a waking process: it runs a little at every period, as a
// service that does some work now and then.
func wakeEvery(period time.Duration) {
	x := 0
	for {
		time.Sleep(period)
		for i := range 20000 {
			x += i
		}
		if x == -1 {
			fmt.Println(x)
		}
	}
}

// holdLoad makes the load and keeps it until SIGINT or SIGTERM.
func holdLoad(procs, groups, waking, vms int) error {
	load, err := newLoad(procs, groups)
	defer load.close()
	if err != nil {
		return err
	}
	if err := load.wakers(100*time.Millisecond, waking, vms); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "agentcost: %d processes, %d control groups (%d waking), %d VM groups; interrupt to end\n", countProcs(), load.made, load.waking, load.vms)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

type costRun struct {
	telegraf, powerinput string
	before               string
	round                time.Duration
	rounds               int
	warmup               time.Duration
}

func (c costRun) run(intervals []time.Duration, procs, groups, waking, vms int) error {
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
	if err := load.wakers(intervals[0], waking, vms); err != nil {
		return err
	}
	fmt.Printf("Whole agent on this machine (%d CPUs, %s), side by side in one run: %d processes, %d control groups made for the run (%d waking), %d VM groups; %d rounds of %s per interval after %s.\n",
		numCPU(), kernel(), countProcs(), load.made, load.waking, load.vms, c.rounds, c.round, c.warmup)
	for _, iv := range intervals {
		if err := c.measure(dir, iv); err != nil {
			return err
		}
	}
	return nil
}

// measure runs the agents at one interval and prints their table.
func (c costRun) measure(dir string, interval time.Duration) error {
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
	execd := func(bin, name, conf string) (string, error) {
		pconf := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(pconf, []byte("[[inputs.powerinput]]\ncarbon_intensity_g_per_kwh = 56.0\n"+conf), 0o644); err != nil {
			return "", err
		}
		return agentConf + fmt.Sprintf(`[[inputs.execd]]
  command = [%q, "-config", %q, "-poll_interval_disabled"]
  signal = "STDIN"
  restart_delay = "10s"
  data_format = "influx"
`, bin, pconf), nil
	}
	agents := []*agent{
		{name: "Telegraf idle (mem input only)", conf: agentConf + "[[inputs.mem]]\n"},
		{name: "Telegraf, native cpu + net", conf: agentConf + "[[inputs.cpu]]\n  percpu = true\n  totalcpu = true\n[[inputs.net]]\n", native: true},
	}
	bins := []struct{ path, label string }{{c.powerinput, ""}}
	if c.before != "" {
		bins = append(bins, struct{ path, label string }{c.before, " (before)"})
	}
	for i, b := range bins {
		defaults, err := execd(b.path, fmt.Sprintf("defaults%d", i), "")
		if err != nil {
			return err
		}
		everything, err := execd(b.path, fmt.Sprintf("everything%d", i), "services = true\nprocesses = true\nvms = true\n")
		if err != nil {
			return err
		}
		agents = append(agents,
			&agent{name: "Telegraf + powerinput, defaults (power, cpu, net)" + b.label, conf: defaults, child: comm(b.path)},
			&agent{name: "Telegraf + powerinput, everything (+ services, processes, VMs)" + b.label, conf: everything, child: comm(b.path)})
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
		a.cmd = exec.Command(c.telegraf, "--config", path)
		a.cmd.Stdout, a.cmd.Stderr = logf, logf
		a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := a.cmd.Start(); err != nil {
			return fmt.Errorf("start telegraf: %w", err)
		}
		defer a.stop()
	}
	time.Sleep(c.warmup)
	for _, a := range agents {
		if a.child != "" && a.childPID() == 0 {
			return fmt.Errorf("%s: no %s child running; see %s", a.name, a.child, a.log)
		}
	}
	for range c.rounds {
		for _, a := range agents {
			a.cpu0 = a.cpuTime()
		}
		start := time.Now()
		time.Sleep(c.round)
		gathers := time.Since(start).Seconds() / interval.Seconds()
		for _, a := range agents {
			t := a.cpuTime()
			a.total = append(a.total, float64((t.total-a.cpu0.total).Microseconds())/gathers)
			a.childUS = append(a.childUS, float64((t.child-a.cpu0.child).Microseconds())/gathers)
			if a.child != "" {
				a.rss = max(a.rss, peakRSS(a.childPID()))
			}
		}
	}
	var native float64
	for _, a := range agents {
		if a.native {
			native = median(a.total)
		}
	}
	fmt.Printf("\nInterval %s: CPU per gather (Telegraf and its children), median of %d rounds [lowest–highest]\n\n", interval, c.rounds)
	fmt.Println("| agent | CPU per gather | ratio to native | of which powerinput | powerinput peak RSS |")
	fmt.Println("|---|---|---|---|---|")
	for _, a := range agents {
		child, rss := "–", "–"
		if a.child != "" {
			child = spread(a.childUS)
			rss = fmt.Sprintf("%.1f MiB", float64(a.rss)/1024)
		}
		fmt.Printf("| %s | %s | %.2f× | %s | %s |\n", a.name, spread(a.total), median(a.total)/native, child, rss)
	}
	return nil
}

// comm is the name /proc/<pid>/comm gives the program at path (its first
// 15 bytes).
func comm(path string) string {
	name := filepath.Base(path)
	return name[:min(len(name), 15)]
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is "median µs [lowest–highest]".
func spread(v []float64) string {
	return fmt.Sprintf("%.0f µs [%.0f–%.0f]", median(v), slices.Min(v), slices.Max(v))
}

type agent struct {
	name, conf, child, log string
	native                 bool // the agent the others are compared with
	cmd                    *exec.Cmd
	cpu0                   cpuTimes
	total, childUS         []float64 // µs per gather, by round
	rss                    int       // the child's peak, KiB
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

// cpuTime is the agent's CPU time with its children's, in nanoseconds:
// the sum of each thread's run time (/proc/<pid>/task/<tid>/schedstat), as
// /proc/<pid>/stat counts it in ticks of 10 ms, too coarse for a round of
// gathers at 1 s. Children waited for (cutime, cstime: a restarted execd
// child) are added in ticks.
func (a *agent) cpuTime() cpuTimes {
	pid := a.cmd.Process.Pid
	f := statFields(pid)
	var c cpuTimes
	c.total = runTime(pid) + ticks(f, 13) + ticks(f, 14)
	for _, kid := range a.children() {
		t := runTime(kid)
		c.total += t
		c.child += t
	}
	return c
}

// runTime is the time a process's threads have run.
func runTime(pid int) time.Duration {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sum += time.Duration(n)
		}
	}
	return sum
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

// peakRSS is a process's peak resident memory (VmHWM), KiB.
func peakRSS(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
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
	kids   []*exec.Cmd
	root   string // the cgroup v2 root, "" without one
	base   string
	dirs   []string
	groups []string // the groups made, in order
	made   int
	waking int
	vms    int
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
	l.root = root
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
		l.groups = append(l.groups, path)
		// The sleeping processes go into the groups, some in each, as a
		// systemd host's processes are in their services.
		for k := i; k < len(l.kids); k += groups {
			os.WriteFile(filepath.Join(path, "cgroup.procs"), []byte(strconv.Itoa(l.kids[k].Process.Pid)), 0o644)
		}
	}
	return l, nil
}

// wakers adds a waking process to waking of the groups made (spread over
// them), and makes vms groups where libvirt makes a VM's
// (machine.slice/machine-qemu\x2dN\x2dNAME.scope), each with one.
func (l *load) wakers(period time.Duration, waking, vms int) error {
	if l.root == "" || l.base == "" {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	start := func(group string) error {
		k := exec.Command(self, "-wake", period.String())
		k.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := k.Start(); err != nil {
			return fmt.Errorf("start a waking process: %w", err)
		}
		l.kids = append(l.kids, k)
		return os.WriteFile(filepath.Join(group, "cgroup.procs"), []byte(strconv.Itoa(k.Process.Pid)), 0o644)
	}
	for i := range min(waking, len(l.groups)) {
		if err := start(l.groups[i*len(l.groups)/waking]); err != nil {
			return err
		}
		l.waking++
	}
	for i := range vms {
		path := filepath.Join(l.root, "machine.slice")
		for _, part := range []string{"", fmt.Sprintf(`machine-qemu\x2d%d\x2dcostvm%d.scope`, 9000+i, i)} {
			if part != "" {
				path = filepath.Join(path, part)
			}
			if err := os.Mkdir(path, 0o755); err == nil {
				l.dirs = append(l.dirs, path)
			} else if !errors.Is(err, os.ErrExist) {
				return err
			}
		}
		if err := start(path); err != nil {
			return err
		}
		l.vms++
	}
	return nil
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
