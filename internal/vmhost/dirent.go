package vmhost

import (
	"strings"

	"github.com/greencampus/powerinput/internal/kfile"
)

// dirLimit bounds one directory's listing (/proc with some 500,000
// processes).
const dirLimit = 32 << 20

// listDirs calls fn with the name of each subdirectory of path (entries of
// type directory, or of unknown type, which the caller's next open will
// check), reusing buf; it returns buf. path is read through *d, a directory
// kept open at root (opened by the first call): the listing allocates
// nothing, and on procfs or cgroupfs costs no call the Go scheduler sees
// (kfile.Dir). The name given to fn is only valid during the call.
func (f *Finder) listDirs(d **kfile.Dir, root, path string, buf []byte, fn func(name []byte)) ([]byte, error) {
	if *d == nil {
		dir, err := kfile.OpenDir(root)
		if err != nil {
			return buf, err
		}
		*d = dir
	}
	f.relBuf = append(f.relBuf[:0], '.')
	if rel, ok := strings.CutPrefix(path, root); ok && len(rel) > 1 && rel[0] == '/' {
		f.relBuf = append(f.relBuf[:0], rel[1:]...)
	} else if path != root {
		return buf, kfile.ErrBadName
	}
	recs, err := (*d).ReadDir(f.relBuf, buf, dirLimit)
	if err != nil {
		return recs, (*d).Err("readdir", f.relBuf, err)
	}
	for e, rest, ok := kfile.NextEntry(recs); ok; e, rest, ok = kfile.NextEntry(rest) {
		if e.IsDir() {
			fn(e.Name)
		}
	}
	return recs, nil
}
