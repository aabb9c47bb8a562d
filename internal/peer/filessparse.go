package peer

import (
	"bytes"
	"fmt"
)

// sparseBlock is the unit of the zero skip: a file system block on most systems. An aligned
// block of zeros that lands in a region this run created sparse is not written: reading it back
// gives zeros anyway, and a sparse payload (a generated 100 GiB of mostly zeros) does not fill
// the disk.
const sparseBlock = 4 << 10

var zeroBlock [sparseBlock]byte

// writeSparse writes data at off in f, except the aligned sparseBlock blocks of zeros at or
// past sparseFrom (the region of the file this run created by extending it, which reads as
// zeros already). Before sparseFrom (what was on disk before this run: a resumed .part may hold
// garbage there) everything is written.
func writeSparse(f file, data []byte, off, sparseFrom int64) error {
	if off+int64(len(data)) <= sparseFrom {
		return writeAll(f, data, off)
	}
	if off < sparseFrom {
		n := sparseFrom - off
		if err := writeAll(f, data[:n], off); err != nil {
			return err
		}
		data, off = data[n:], sparseFrom
	}
	start := -1 // the start in data of the run of non-zero blocks not yet written
	for pos := 0; pos < len(data); {
		end := min(len(data), pos+int(sparseBlock-(off+int64(pos))%sparseBlock))
		if bytes.Equal(data[pos:end], zeroBlock[:end-pos]) {
			if start >= 0 {
				if err := writeAll(f, data[start:pos], off+int64(start)); err != nil {
					return err
				}
				start = -1
			}
		} else if start < 0 {
			start = pos
		}
		pos = end
	}
	if start >= 0 {
		return writeAll(f, data[start:], off+int64(start))
	}
	return nil
}

// writeAll is one positional write that fails unless it wrote every byte.
func writeAll(f file, data []byte, off int64) error {
	n, err := f.WriteAt(data, off)
	if err == nil && n != len(data) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(data))
	}
	return err
}
