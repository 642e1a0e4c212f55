// The seed's "Go std" server: net/http, closing each connection with "Connection: close".
//
// Answers every request with the 88-byte reply's headers and body (net/http writes the headers
// in its own order, answers an HTTP/1.0 request with an HTTP/1.0 status line, and the Date
// header it would add is suppressed). Binds 127.0.0.1 on the port given as the first argument. The listen backlog is Go's default: net.Listen uses
// /proc/sys/net/core/somaxconn, and net/http has no setting for it.
package main

import (
	"fmt"
	"net/http"
	"os"
)

var body = []byte("hello")

func hello(w http.ResponseWriter, _ *http.Request) {
	header := w.Header()
	header["Date"] = nil
	header.Set("Content-Type", "text/plain")
	header.Set("Content-Length", "5")
	header.Set("Connection", "close")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func main() {
	port := "8080"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	server := &http.Server{Addr: "127.0.0.1:" + port, Handler: http.HandlerFunc(hello)}
	fmt.Println("go std server listening on 127.0.0.1:" + port)
	if err := server.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
