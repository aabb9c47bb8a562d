package main

import (
	"net"
	"slices"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// serveDNS answers A queries on a loopback UDP socket: name -> addr, NXDOMAIN for anything else.
func serveDNS(t *testing.T, name string, addr [4]byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			resp := dnsmessage.Message{
				Header:    dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true},
				Questions: []dnsmessage.Question{q},
			}
			switch {
			case q.Name.String() == name && q.Type == dnsmessage.TypeA:
				resp.Answers = []dnsmessage.Resource{{
					Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 30},
					Body:   &dnsmessage.AResource{A: addr},
				}}
			case q.Name.String() != name:
				resp.RCode = dnsmessage.RCodeNameError
			}
			out, err := resp.Pack()
			if err == nil {
				_, _ = pc.WriteTo(out, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func TestLookupAsksOnlyTheGivenServer(t *testing.T) {
	server := serveDNS(t, "kubernetes.default.svc.cluster.local.", [4]byte{10, 96, 0, 1})
	got, err := lookup(server, "kubernetes.default.svc.cluster.local", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, "10.96.0.1") {
		t.Fatalf("lookup = %v, want 10.96.0.1 among them", got)
	}
	if _, err := lookup(server, "missing.cluster.local", 5*time.Second); err == nil {
		t.Fatal("lookup of an unknown name succeeded")
	}
}

func TestLookupTimesOutOnASilentServer(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // reads nothing, answers nothing
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := lookup(pc.LocalAddr().String(), "x.cluster.local", 300*time.Millisecond); err == nil {
		t.Fatal("lookup against a silent server succeeded")
	}
}
