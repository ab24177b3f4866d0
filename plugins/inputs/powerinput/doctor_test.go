package powerinput

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/tools/txtar"
)

// TestDoctorGolden runs -doctor on each testdata/doctor tree with the
// default sources. The archive's comment ends with "exit N", the expected
// exit code; its doctor.golden section is the expected output, with the
// tree's root written $ROOT (go test -update rewrites it).
func TestDoctorGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "doctor", "*.txtar"))
	if len(files) < 4 {
		t.Fatalf("want at least 4 doctor cases, have %d", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			s := loadScenario(t, file)
			// Other users may pass through the folders above the tree, as
			// above a real vm_counter_dir (t.TempDir's are 0700).
			for _, d := range []string{s.root, filepath.Dir(s.root)} {
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			s.run(t)
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(ar.Comment)), "\n")
			wantCode, err := strconv.Atoi(strings.TrimPrefix(lines[len(lines)-1], "exit "))
			if err != nil {
				t.Fatalf("comment must end with \"exit N\": %v", err)
			}
			if strings.Contains(string(ar.Comment), "the counter moves") {
				// The hypervisor writes the guest's counter while -doctor
				// waits on it.
				n := 0
				s.plugin.sleep = func(time.Duration) {
					n++
					path := filepath.Join(s.root, "vm", "intel-rapl:0", "energy_uj")
					if err := os.WriteFile(path, []byte(strconv.Itoa(123456+n*1000000)+"\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			var out bytes.Buffer
			code := s.plugin.Doctor(&out)
			got := strings.ReplaceAll(out.String(), s.root, "$ROOT")
			if code != wantCode {
				t.Errorf("exit code %d, want %d", code, wantCode)
			}
			for i := range ar.Files {
				if ar.Files[i].Name != "doctor.golden" {
					continue
				}
				if *update {
					ar.Files[i].Data = []byte(got)
					if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
						t.Fatal(err)
					}
				} else if want := string(ar.Files[i].Data); got != want {
					t.Errorf("doctor output differs:\ngot:\n%s\nwant:\n%s", got, want)
				}
			}
		})
	}
}
