// Command fleetsim runs simulated LLM inference servers on 127.0.0.1: each
// serves /metrics in a real server's format and /truth with the exact busy
// time of its models. See fleetsim/README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"

	"github.com/placement-exporter/placement_exporter/fleetsim"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	app := kingpin.New("fleetsim", "Simulated LLM inference servers with exact ground truth.")
	fleetFile := app.Flag("fleet.file", "Fleet file (YAML); the built-in demo fleet if empty.").String()
	printDemo := app.Flag("fleet.print-demo", "Print the built-in demo fleet file and exit.").Bool()
	host := app.Flag("listen.host", "Host to listen on; keep it on loopback.").Default("127.0.0.1").String()
	seed := app.Flag("seed", "Seed of the simulated traffic.").Default("1").Uint64()
	speed := app.Flag("speed", "Simulated seconds per wall-clock second.").Default("1").Float64()
	truthFile := app.Flag("truth.file", "Write the ground truth as JSON to this file periodically and on exit.").String()
	truthInterval := app.Flag("truth.interval", "How often to write --truth.file.").Default("10s").Duration()
	exporterOut := app.Flag("exporter-config.out", "Write an exporter configuration for the started fleet to this file.").String()
	poll := app.Flag("exporter-config.poll-interval", "poll_interval written to the exporter configuration.").Default("1s").Duration()
	logCfg := &promslog.Config{}
	flag.AddFlags(app, logCfg)
	app.Version(version.Print("fleetsim"))
	app.HelpFlag.Short('h')
	app.Command("serve", "Serve the simulated fleet until interrupted.").Default()
	accuracyCmd := app.Command("accuracy", "Measure the exporter's estimator against the exact truth and write the report.")
	accuracyOut := accuracyCmd.Flag("out", "Markdown report to write.").Default("docs/accuracy.md").String()
	accuracySeeds := accuracyCmd.Flag("seeds", "Seeds per scenario; figures are the worst over them.").Default("5").Int()
	cmd, err := app.Parse(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	logger := promslog.New(logCfg)
	if cmd == accuracyCmd.FullCommand() {
		return runAccuracy(*accuracyOut, *accuracySeeds)
	}

	if *printDemo {
		fmt.Print(fleetsim.DemoFleet)
		return 0
	}
	if ip := net.ParseIP(*host); *host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		logger.Warn("listening beyond loopback: other hosts can reach the simulated servers", "host", *host)
	}
	if !(*speed > 0) {
		logger.Error("--speed must be positive", "speed", *speed)
		return 2
	}
	ff, baseDir := fleetsim.LoadDemoFleet(), "."
	if *fleetFile != "" {
		var err error
		if ff, err = fleetsim.LoadFleetFile(*fleetFile); err != nil {
			logger.Error("cannot load the fleet file", "err", err)
			return 1
		}
		baseDir = filepath.Dir(*fleetFile)
	}
	eps, err := ff.Build(*seed, baseDir)
	if err != nil {
		logger.Error("cannot build the fleet", "err", err)
		return 1
	}

	// Listen first, so that simulated time starts when every port is open.
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	var baseURLs []string
	for _, ep := range eps {
		l, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(ep.Spec.Port)))
		if err != nil {
			logger.Error("cannot listen", "server", ep.Spec.Name, "err", err)
			return 1
		}
		listeners = append(listeners, l)
		baseURLs = append(baseURLs, "http://"+l.Addr().String())
	}
	srv := fleetsim.NewServer(eps, time.Now(), *speed, time.Now)

	if *exporterOut != "" {
		b, err := fleetsim.NewExporterConfig(eps, baseURLs, *poll).Marshal()
		if err == nil {
			err = os.WriteFile(*exporterOut, b, 0o644)
		}
		if err != nil {
			logger.Error("cannot write the exporter configuration", "file", *exporterOut, "err", err)
			return 1
		}
		logger.Info("wrote the exporter configuration", "file", *exporterOut)
	}

	errc := make(chan error, len(eps))
	var servers []*http.Server
	for i, ep := range eps {
		hs := &http.Server{Handler: srv.Handler(ep), ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, hs)
		go func(l net.Listener) { errc <- hs.Serve(l) }(listeners[i])
		for _, m := range ep.Models {
			fmt.Printf("%-10s %-9s %-28s %s%s\n", ep.Spec.Name, ep.Format.Name, m.Name(), baseURLs[i], ep.Format.Path)
		}
	}
	logger.Info("fleet started", "servers", len(eps), "seed", *seed, "speed", *speed)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var tick <-chan time.Time
	if *truthFile != "" && *truthInterval > 0 {
		t := time.NewTicker(*truthInterval)
		defer t.Stop()
		tick = t.C
	}
	code := 0
loop:
	for {
		select {
		case <-ctx.Done():
			logger.Info("stopping")
			break loop
		case err := <-errc:
			logger.Error("a listener failed", "err", err)
			code = 1
			break loop
		case <-tick:
			if err := srv.WriteTruthFile(*truthFile); err != nil {
				logger.Warn("cannot write the truth file", "err", err)
			}
		}
	}

	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, hs := range servers {
		if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("shutdown", "err", err)
		}
	}
	if *truthFile != "" {
		if err := srv.WriteTruthFile(*truthFile); err != nil {
			logger.Error("cannot write the truth file", "err", err)
			return 1
		}
		logger.Info("wrote the truth file", "file", *truthFile)
	}
	return code
}
