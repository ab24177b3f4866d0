package chronograf

import (
	"os/exec"
	"syscall"
)

// orphanless makes the kernel kill the child if the test process dies
// before its cleanups run (a timeout panic).
func orphanless(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
