package client

import "testing"

func TestClientParsesAnnounceURLAndEscapesBinary(t *testing.T) {
	if got := (&Client{BaseURL: "http://t:8080/announce"}).base(); got != "http://t:8080" {
		t.Fatalf("base of an announce URL: %q", got)
	}
	if got := escapeBinary([]byte{' ', '+', 'a', 0xff, '~'}); got != "%20%2Ba%FF~" {
		t.Fatalf("escapeBinary = %q", got)
	}
}
