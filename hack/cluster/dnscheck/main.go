// Command dnscheck asks one DNS server for a name's A records and exits 0 only if the wanted
// address is among them: the local cluster's proof that CoreDNS answers.
//
//	dnscheck --server 10.244.0.5:1053 --name kubernetes.default.svc.cluster.local --want 10.96.0.1
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"time"
)

func main() {
	server := flag.String("server", "", "DNS server address, host:port")
	host := flag.String("name", "", "name to resolve")
	want := flag.String("want", "", "address that must be among the answers")
	timeout := flag.Duration("timeout", 3*time.Second, "time allowed for the whole query")
	flag.Parse()
	if *server == "" || *host == "" || *want == "" {
		fmt.Fprintln(os.Stderr, "usage: dnscheck --server HOST:PORT --name NAME --want IP")
		os.Exit(2)
	}
	addrs, err := lookup(*server, *host, *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dnscheck:", err)
		os.Exit(1)
	}
	if !slices.Contains(addrs, *want) {
		fmt.Fprintf(os.Stderr, "dnscheck: %s resolved to %v, want %s\n", *host, addrs, *want)
		os.Exit(1)
	}
	fmt.Printf("%s -> %v\n", *host, addrs)
}

// lookup resolves host's IPv4 addresses through server only, never through the machine's resolver.
func lookup(server, host string, timeout time.Duration) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resolver := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		},
	}
	ips, err := resolver.LookupIP(ctx, "ip4", host)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out, nil
}
