package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/greencampus/powerinput/plugins/inputs/powerinput"
)

// TestExitCodes: a wrong command line or configuration exits with its own
// status, never one of -doctor's (0 measured, 1 estimate only, 2 nothing),
// so that `make run` does not read a typo as "only the estimate works".
func TestExitCodes(t *testing.T) {
	measured, _ := tree(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	modelOnly := write("model.conf", "[[inputs.powerinput]]\nsources = [\"model\"]\nnet = false\ncpu = false\n")
	// A readable /sys with no powercap zones: rapl cannot work.
	nothing := write("nothing.conf", "[[inputs.powerinput]]\nhost_sys = \""+dir+"\"\nsources = [\"rapl\"]\nnet = false\ncpu = false\n")
	typo := write("typo.conf", "[[inputs.powerinput]]\nsourcse = [\"rapl\"]\n")
	for _, c := range []struct {
		name   string
		args   []string
		want   int
		stderr string // part of what it says, "" for nothing checked
	}{
		{"doctor, measured", []string{"-config", measured, "-doctor"}, powerinput.DoctorMeasured, ""},
		{"doctor, estimate only", []string{"-config", modelOnly, "-doctor"}, powerinput.DoctorModelOnly, ""},
		{"doctor, nothing works", []string{"-config", nothing, "-doctor"}, powerinput.DoctorNothing, ""},
		{"mistyped option in the config", []string{"-config", typo, "-doctor"}, exitConfig, "sourcse"},
		{"missing config file", []string{"-config", filepath.Join(dir, "absent.conf"), "-doctor"}, exitConfig, "absent.conf"},
		{"unknown command-line option", []string{"-doctr"}, exitConfig, "-doctr"},
		{"bad poll interval", []string{"-poll_interval", "0s"}, exitConfig, "-poll_interval"},
		{"help", []string{"-h"}, 0, "-doctor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(buildBinary(t), c.args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			got := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				got = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", got, c.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("stderr does not name %q:\n%s", c.stderr, stderr.String())
			}
		})
	}
	if exitConfig == powerinput.DoctorMeasured || exitConfig == powerinput.DoctorModelOnly || exitConfig == powerinput.DoctorNothing {
		t.Errorf("exitConfig %d is one of -doctor's own codes", exitConfig)
	}
}

// TestSummaryQuiet: -summary -lang fr on the model writes no English
// warning lines before the French text (the sources it tried and could
// not use); the text itself says, in French, that -doctor explains how
// to measure.
func TestSummaryQuiet(t *testing.T) {
	dir := t.TempDir() // a /sys without powercap: rapl warns, the model answers
	conf := filepath.Join(dir, "model.conf")
	if err := os.WriteFile(conf, []byte("[[inputs.powerinput]]\nsources = [\"rapl\", \"model\"]\nhost_sys = \""+dir+"\"\nnet = false\ncpu = false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(buildBinary(t), "-config", conf, "-summary", "-lang", "fr", "-summary_duration", "200ms")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v; stderr:\n%s", err, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr is not empty:\n%s", stderr.String())
	}
	if want := "lancez powerinput -doctor\u202f:"; !strings.Contains(stdout.String(), want) {
		t.Errorf("the summary does not say %q:\n%s", want, stdout.String())
	}
}
