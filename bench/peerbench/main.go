// Command peerbench is the independent client of bench/peers.sh: the
// same code measures Boxwire and its peers (Centrifugo v6, PocketBase),
// so that a ratio between them compares the servers, not two tools.
// It shares nothing with `boxwire bench`, whose load generators are
// tuned to Boxwire (one epoll loop for every subscriber); this one is a
// plain client: one goroutine per connection, coder/websocket for
// WebSockets, net/http for Server-Sent Events.
//
//	peerbench port                          a free TCP port on 127.0.0.1
//	peerbench prepare  -target T -url U …   sign in / create what wrk posts to; prints JSON
//	peerbench fanout   -target T -url U …   publish→receive latency, one JSON line
//	peerbench idle     -target T -url U …   server RSS per idle WebSocket, one JSON line
//	peerbench startup  -url U -- CMD ARGS…  start-up time and idle RSS, one JSON line
//
// Targets: boxwire-ws, boxwire-sse, centrifugo-ws, pocketbase-sse
// (prepare: boxwire, pocketbase).
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peerbench port|prepare|fanout|idle|startup [flags]")
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "port":
		err = freePort()
	case "prepare":
		err = runPrepare(ctx, args)
	case "fanout":
		err = runFanout(ctx, args)
	case "idle":
		err = runIdle(ctx, args)
	case "startup":
		err = runStartup(ctx, args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		os.Exit(1)
	}
}

// freePort prints a port nobody listens on now (the script starts a
// server on it a moment later).
func freePort() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	return nil
}
