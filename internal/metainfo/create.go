package metainfo

import (
	"crypto/sha1"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// CreateOptions are the choices of Create; the zero value is valid.
type CreateOptions struct {
	// PieceLength is the piece size; 0 means DefaultPieceLength.
	PieceLength int64
	// Name is the file's name in the torrent; empty means the base name of the path.
	Name string
	// Announce is the tracker's announce URL; it may be empty and set later.
	Announce string
	// Progress, if set, is called from Create's goroutine after each piece is read, with the
	// bytes read so far and the file's length, and once more at the end.
	Progress func(done, total int64)
}

// maxHashWorkers bounds the goroutines that hash pieces in Create.
const maxHashWorkers = 2

// Create hashes the file at path into a hybrid v1+v2 single-file torrent. It streams the file
// a piece at a time: its memory does not grow with the file's size (a few piece buffers, plus
// 52 bytes of hashes per piece).
func Create(path string, opts CreateOptions) (*MetaInfo, error) {
	if opts.PieceLength == 0 {
		opts.PieceLength = DefaultPieceLength
	}
	if err := ValidPieceLength(opts.PieceLength); err != nil {
		return nil, fmt.Errorf("metainfo: %w", err)
	}
	if opts.Name == "" {
		opts.Name = filepath.Base(path)
	}
	if err := validName(opts.Name); err != nil {
		return nil, fmt.Errorf("metainfo: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("metainfo: %w", err)
	}
	defer f.Close()
	length, err := regularFileSize(f)
	if err != nil {
		return nil, fmt.Errorf("metainfo: %s: %w", path, err)
	}
	hashes, err := hashPieces(f, length, opts.PieceLength, opts.Progress)
	if err != nil {
		return nil, fmt.Errorf("metainfo: hashing %s: %w", path, err)
	}
	return build(opts, length, hashes)
}

// regularFileSize returns the size of f, which must be a non-empty regular file.
func regularFileSize(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() {
		return 0, fmt.Errorf("not a regular file (only single files can be shared)")
	}
	if st.Size() == 0 {
		return 0, ErrEmptyFile
	}
	return st.Size(), nil
}

// build assembles the MetaInfo from the piece hashes.
func build(opts CreateOptions, length int64, hashes pieceHashes) (*MetaInfo, error) {
	info := Info{
		Name:        opts.Name,
		Length:      length,
		PieceLength: opts.PieceLength,
		V1Pieces:    hashes.v1,
	}
	var layer [][32]byte
	if len(hashes.v2) == 1 {
		info.PiecesRoot = hashes.v2[0]
	} else {
		layer = hashes.v2
		info.PiecesRoot = layerRoot(layer, int(opts.PieceLength/BlockSize))
	}
	infoBytes, err := encodeInfo(info)
	if err != nil {
		return nil, err
	}
	return newMetaInfo(opts.Announce, info, layer, infoBytes), nil
}

// pieceHashes are the v1 (SHA-1) and v2 (merkle subtree root) hashes of every piece.
type pieceHashes struct {
	v1 [][20]byte
	v2 [][32]byte
}

// pieceJob is one piece read from the file, waiting to be hashed.
type pieceJob struct {
	index int
	data  []byte
}

// hashPieces reads length bytes from r a piece at a time and hashes the pieces on up to
// maxHashWorkers goroutines. The reading goroutine owns the free buffers; each worker writes
// only the hashes of the pieces it was given, so the result slices need no lock.
func hashPieces(r io.Reader, length, pieceLength int64, progress func(done, total int64)) (pieceHashes, error) {
	n := numPieces(length, pieceLength)
	out := pieceHashes{v1: make([][20]byte, n), v2: make([][32]byte, n)}
	leaves := treeLeaves(length, pieceLength)
	workers := min(maxHashWorkers, runtime.GOMAXPROCS(0), n)

	jobs := make(chan pieceJob)
	free := make(chan []byte, workers+1)
	for range workers + 1 {
		free <- make([]byte, min(pieceLength, length))
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var h pieceHasher
			for job := range jobs {
				out.v1[job.index] = sha1.Sum(job.data)
				out.v2[job.index] = h.root(job.data, leaves)
				free <- job.data[:cap(job.data)]
			}
		})
	}
	err := readPieces(r, length, pieceLength, free, jobs, progress)
	close(jobs)
	wg.Wait()
	if err != nil {
		return pieceHashes{}, err
	}
	if progress != nil {
		progress(length, length)
	}
	return out, nil
}

// readPieces reads every piece into a free buffer and sends it to the hashing workers.
func readPieces(r io.Reader, length, pieceLength int64, free <-chan []byte, jobs chan<- pieceJob,
	progress func(done, total int64)) error {
	var done int64
	for i := range numPieces(length, pieceLength) {
		buf := (<-free)[:min(pieceLength, length-done)]
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("reading piece %d at offset %d (did the file shrink?): %w", i, done, err)
		}
		jobs <- pieceJob{index: i, data: buf}
		done += int64(len(buf))
		if progress != nil && done < length {
			progress(done, length)
		}
	}
	return nil
}
