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
)

// Content is the identity of one torrent's file, as the cache keys and checks it.
type Content struct {
	// InfoHash is the torrent's v1 info-hash: the content directory's name.
	InfoHash [20]byte
	// Name is the file's name in the torrent; Size its length; PieceLength the torrent's.
	Name        string
	Size        int64
	PieceLength int64
}

// hex is the content directory's name.
func (c Content) hex() string { return hex.EncodeToString(c.InfoHash[:]) }

// Record is content/<ih>/.verified: what was verified, and the file as it was then. A copy
// whose file still has this size, inode, modification and change times is not hashed again.
// The change time (ctime) cannot be set back by a user, so a file modified and then given its
// old mtime again (touch -d) is still seen as changed.
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
}

// maxRecordBytes bounds what is read of a record file.
const maxRecordBytes = 64 << 10

// readRecord reads the record at path; a missing, foreign or malformed record is an error.
func readRecord(path string) (Record, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return Record{}, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, maxRecordBytes+1))
	if err != nil {
		return Record{}, err
	}
	if len(data) > maxRecordBytes {
		return Record{}, fmt.Errorf("node cache: record %s is larger than %d bytes", path, maxRecordBytes)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("node cache: record %s: %w", path, err)
	}
	return r, nil
}

// matches reports whether r records content c as the file id shows it now.
func (r Record) matches(c Content, id fileID) bool {
	return r.InfoHash == c.hex() && r.Name == c.Name && r.Size == c.Size && r.PieceLength == c.PieceLength &&
		id.regular && id.size == r.Size && id.inode == r.Inode &&
		id.mtimeNano == r.MtimeUnixNano && id.ctimeNano == r.CtimeUnixNano
}

// newRecord is the record of content c whose verified file is id.
func newRecord(c Content, id fileID, sha256 string, now time.Time) Record {
	return Record{
		InfoHash: c.hex(), Name: c.Name, Size: c.Size, PieceLength: c.PieceLength,
		MtimeUnixNano: id.mtimeNano, CtimeUnixNano: id.ctimeNano, Inode: id.inode,
		SHA256: strings.ToLower(sha256), VerifiedAt: now.UTC(),
	}
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
