package nodecache

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/minibit-io/minibit/internal/metainfo"
)

// Content is the identity of one torrent's file or directory, as the cache keys and checks it.
type Content struct {
	// InfoHash is the torrent's v1 info-hash: the content directory's name.
	InfoHash [20]byte
	// Name is the file's (or directory's) name in the torrent; Size the file's length, or the
	// sum of the directory's files' lengths; PieceLength the torrent's.
	Name        string
	Size        int64
	PieceLength int64
	// Files are a directory's files in the torrent's order; nil for a single file.
	Files []File
}

// File is one file of a directory's content: its slash path under the directory and its length.
type File struct {
	Path   string
	Length int64
}

// isDir reports whether c is a directory.
func (c Content) isDir() bool { return len(c.Files) > 0 }

// hex is the content directory's name.
func (c Content) hex() string { return hex.EncodeToString(c.InfoHash[:]) }

// Record is content/<ih>/.verified: what was verified, and the file as it was then. A copy
// whose file still has this size, inode, modification and change times is not hashed again.
// The change time (ctime) cannot be set back by a user, so a file modified and then given its
// old mtime again (touch -d) is still seen as changed. A directory's record holds the
// directory's inode (no times) and each file's identity in Files; a single file's record has
// no Files, byte for byte as before directories.
type Record struct {
	InfoHash      string    `json:"infoHash"`
	Name          string    `json:"name"`
	Size          int64     `json:"size"`
	PieceLength   int64     `json:"pieceLength"`
	MtimeUnixNano int64     `json:"mtimeUnixNano"`
	CtimeUnixNano int64     `json:"ctimeUnixNano"`
	Inode         uint64    `json:"inode"`
	SHA256        string    `json:"sha256,omitempty"` // the whole file's, when it was checked
	VerifiedAt    time.Time `json:"verifiedAt"`
	// Files are a directory's files, in the torrent's order, as they were when verified.
	Files []RecordFile `json:"files,omitempty"`
}

// RecordFile is one file of a directory's record: its slash path and identity.
type RecordFile struct {
	Path          string `json:"path"`
	Size          int64  `json:"size"`
	MtimeUnixNano int64  `json:"mtimeUnixNano"`
	CtimeUnixNano int64  `json:"ctimeUnixNano"`
	Inode         uint64 `json:"inode"`
}

// maxRecordBytes bounds what is read of a single file's record, and the part of a directory's
// record before its files.
const maxRecordBytes = 64 << 10

// maxRecordFileBytes bounds one file's entry in a directory's record besides its path, which
// JSON may write with up to 6 bytes a byte (\u003c).
const maxRecordFileBytes = 256

// recordLimit bounds what is read of content c's record: proportional to its files (at most
// metainfo.MaxFiles, their paths checked by checkContent).
func recordLimit(c Content) int64 {
	n := int64(maxRecordBytes)
	for _, f := range c.Files {
		n += maxRecordFileBytes + 6*int64(len(f.Path))
	}
	return n
}

// readRecord reads the record at path of a single file (at most maxRecordBytes); a missing,
// foreign or malformed record is an error.
func readRecord(path string) (Record, error) { return readRecordLimit(path, maxRecordBytes) }

// readRecordLimit reads the record at path, refusing one larger than limit bytes or with more
// than metainfo.MaxFiles files.
func readRecordLimit(path string, limit int64) (Record, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return Record{}, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return Record{}, err
	}
	if int64(len(data)) > limit {
		return Record{}, fmt.Errorf("node cache: record %s is larger than %d bytes", path, limit)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("node cache: record %s: %w", path, err)
	}
	if len(r.Files) > metainfo.MaxFiles {
		return Record{}, fmt.Errorf("node cache: record %s lists %d files, more than %d", path, len(r.Files), metainfo.MaxFiles)
	}
	return r, nil
}

// readVerifiedAt reads only a record's verification time, which comes before a directory's
// files: at most maxRecordBytes are read, whatever the record's size.
func readVerifiedAt(path string) (time.Time, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return time.Time{}, err
	}
	defer func() { _ = f.Close() }()
	dec := json.NewDecoder(io.LimitReader(f, maxRecordBytes))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return time.Time{}, fmt.Errorf("node cache: record %s is not a JSON object", path)
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return time.Time{}, fmt.Errorf("node cache: record %s: %w", path, err)
		}
		switch key {
		case "verifiedAt":
			var at time.Time
			err := dec.Decode(&at)
			return at, err
		case "files":
			return time.Time{}, fmt.Errorf("node cache: record %s has no verifiedAt before its files", path)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return time.Time{}, fmt.Errorf("node cache: record %s: %w", path, err)
		}
	}
	return time.Time{}, fmt.Errorf("node cache: record %s has no verifiedAt", path)
}

// matches reports whether r records content c with the header of the file (or directory) id
// as it is now. A directory's files are compared by matchesFiles.
func (r Record) matches(c Content, id fileID) bool {
	if r.InfoHash != c.hex() || r.Name != c.Name || r.Size != c.Size || r.PieceLength != c.PieceLength || id.inode != r.Inode {
		return false
	}
	if c.isDir() {
		return id.dir && len(r.Files) == len(c.Files) && r.SHA256 == ""
	}
	return r.Files == nil && id.regular && id.size == r.Size &&
		id.mtimeNano == r.MtimeUnixNano && id.ctimeNano == r.CtimeUnixNano
}

// changedFile returns the path of the first of c's files that a directory's record r does not
// list as ids (by file, from scanTree) shows it now, or "" when every one matches.
func (r Record) changedFile(c Content, ids []fileID) string {
	for i, f := range c.Files {
		rf, id := r.Files[i], ids[i]
		if rf.Path != f.Path || rf.Size != f.Length || !id.regular || id.size != rf.Size ||
			id.inode != rf.Inode || id.mtimeNano != rf.MtimeUnixNano || id.ctimeNano != rf.CtimeUnixNano {
			return f.Path
		}
	}
	return ""
}

// newRecord is the record of content c whose verified file (or directory) is id, with files
// the identities of a directory's files (nil for a single file).
func newRecord(c Content, id fileID, files []fileID, sha256 string, now time.Time) Record {
	r := Record{
		InfoHash: c.hex(), Name: c.Name, Size: c.Size, PieceLength: c.PieceLength,
		MtimeUnixNano: id.mtimeNano, CtimeUnixNano: id.ctimeNano, Inode: id.inode,
		SHA256: strings.ToLower(sha256), VerifiedAt: now.UTC(),
	}
	if c.isDir() {
		r.MtimeUnixNano, r.CtimeUnixNano = 0, 0 // the files' times are what count
		r.Files = make([]RecordFile, len(c.Files))
		for i, f := range c.Files {
			r.Files[i] = RecordFile{Path: f.Path, Size: files[i].size, MtimeUnixNano: files[i].mtimeNano,
				CtimeUnixNano: files[i].ctimeNano, Inode: files[i].inode}
		}
	}
	return r
}

// writeRecord writes r to path durably: a temporary file, synced, renamed over path, and the
// directory synced.
func writeRecord(path string, r Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, recordName+".tmp-*")
	if err != nil {
		return fmt.Errorf("node cache: write record: %w", diskError(err))
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // a no-op after the rename
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("node cache: write record %s: %w", path, diskError(err))
	}
	syncDir(dir)
	return nil
}
