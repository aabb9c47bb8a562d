package source

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

const (
	maxHeaderFileBytes = 64 << 10 // the header file
	maxHeaders         = 100      // lines in it
)

// reservedHeaders are set by the transfer itself and may not come from the header file.
var reservedHeaders = map[string]bool{
	"Host": true, "Range": true, "If-Range": true, "Content-Length": true,
	"Transfer-Encoding": true, "Connection": true, "Accept-Encoding": true,
}

// readHeaderFile reads lines "Name: value" (blank lines and lines starting with '#' skipped).
// Errors name the line and the header, never its value.
func readHeaderFile(file string) (http.Header, error) {
	h := http.Header{}
	if file == "" {
		return h, nil
	}
	data, err := readSmallFile(file, maxHeaderFileBytes)
	if err != nil {
		return nil, fmt.Errorf("source: header file: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxHeaderFileBytes)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if err := addHeaderLine(h, text); err != nil {
			return nil, fmt.Errorf("source: header file %s line %d: %w", file, line, err)
		}
		if len(h) > maxHeaders {
			return nil, fmt.Errorf("source: header file %s: more than %d headers", file, maxHeaders)
		}
	}
	return h, sc.Err()
}

// addHeaderLine adds one "Name: value" line to h.
func addHeaderLine(h http.Header, text string) error {
	name, value, ok := strings.Cut(text, ":")
	if !ok {
		return fmt.Errorf("not \"Name: value\"")
	}
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !httpguts.ValidHeaderFieldName(name) {
		return fmt.Errorf("invalid header name %q", name)
	}
	if !httpguts.ValidHeaderFieldValue(value) {
		return fmt.Errorf("invalid value of header %s", name)
	}
	name = http.CanonicalHeaderKey(name)
	if reservedHeaders[name] {
		return fmt.Errorf("header %s is set by the download itself", name)
	}
	h.Add(name, value)
	return nil
}
