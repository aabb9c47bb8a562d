// Command hello is a tiny static HTTP server used to test images and the local cluster before the
// project's own binaries exist: it answers every request with "hello from HOSTNAME". With --get
// URL it is the client instead: it prints URL's body, or the error, and exits.
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	get := flag.String("get", "", "fetch this URL, print its body and exit")
	flag.Parse()
	if *get != "" {
		os.Exit(fetch(*get))
	}
	host, _ := os.Hostname()
	srv := &http.Server{
		Addr:              *addr,
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "hello from %s\n", host)
		}),
	}
	slog.Info("Serving", "addr", *addr)
	if err := srv.ListenAndServe(); err != nil {
		slog.Error("Server stopped", "err", err)
		os.Exit(1)
	}
}

// fetch prints url's body and returns the exit status: 0 on HTTP 200, 1 otherwise.
func fetch(url string) int {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Printf("%s %s", resp.Status, body)
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}
