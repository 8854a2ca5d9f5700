// Command placement_exporter polls inference servers on its own clock and
// exports, per model, busy time, idle gaps, activity and what the model
// would cost on serverless and always-on GPUs.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/placement-exporter/placement_exporter/collector"
)

const name = "placement_exporter"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program: it serves until ctx ends and returns the exit
// code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New(name, "Polls inference servers and exports per-model duty cycle, idle gaps and serverless versus always-on cost.")
	configFile := app.Flag("config.file", "Exporter configuration file.").Default("placement_exporter.yml").String()
	configCheck := app.Flag("config.check", "Validate the configuration and price catalog, then exit.").Bool()
	pricesFile := app.Flag("prices.file", "Price catalog file (YAML) that overrides or extends the built-in catalog.").String()
	metricsPath := app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
	toolkitFlags := kingpinflag.AddFlags(app, ":9847")
	logConfig := &promslog.Config{}
	flag.AddFlags(app, logConfig)
	app.Version(version.Print(name))
	app.HelpFlag.Short('h')
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	exited, exitCode := false, 0
	app.Terminate(func(code int) { exited, exitCode = true, code })
	_, err := app.Parse(args)
	switch {
	case exited:
		return exitCode // --help or --version
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v (see --help)\n", name, err)
		return 2
	}
	logConfig.Writer = stderr
	logger := promslog.New(logConfig)

	loader := &configLoader{file: *configFile, prices: *pricesFile}
	cfg, cat, err := loader.load()
	if err != nil {
		// Plain text, one problem per line: easier to act on than a log line.
		fmt.Fprintf(stderr, "%s: cannot load the configuration:\n%s\n", name, indent(err.Error()))
		return 1
	}
	if *configCheck {
		fmt.Fprintf(stdout, "%s: configuration OK (%s, %d offers priced in %s)\n",
			*configFile, plural(len(cfg.Targets), "target"), len(cat.Offers()), cat.Currency())
		return 0
	}
	logger.Info("starting "+name, "version", version.Info(), "build_context", version.BuildContext())

	exp := collector.New(collector.Options{Logger: logger, UserAgent: name + "/" + version.Version})
	exp.Apply(cfg, cat)
	defer exp.Stop()
	logger.Info("configuration loaded", "file", *configFile, "targets", len(cfg.Targets))
	if len(cfg.Targets) == 0 {
		logger.Warn("the configuration lists no targets: nothing will be polled", "file", *configFile)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		exp,
		versioncollector.NewCollector(name),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	reloader := newReloader(loader, exp, logger, reg)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			_ = reloader.reload()
		}
	}()

	mux := http.NewServeMux()
	mux.Handle(*metricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slogAdapter{logger},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !exp.Ready() {
			http.Error(w, "not ready: some targets have not been polled yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "use POST to reload the configuration", http.StatusMethodNotAllowed)
			return
		}
		if err := reloader.reload(); err != nil {
			http.Error(w, "reload failed, keeping the last good configuration: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "Reloaded")
	})
	if *metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        name,
			Description: "Per-model duty cycle, idle gaps and serverless versus always-on GPU cost",
			Version:     version.Info(),
			// No profiling endpoints are served, so the page links none.
			Profiling: "false",
			Links: []web.LandingLinks{
				{Address: *metricsPath, Text: "Metrics"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
		})
		if err != nil {
			logger.Error("cannot build the landing page", "err", err)
			return 1
		}
		mux.Handle("/", landing)
	}

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, toolkitFlags, logger) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			logger.Error("cannot serve HTTP", "err", err)
			return 1
		}
	case <-ctx.Done():
		logger.Info("shutting down")
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}
	return 0
}

// plural writes a count and a noun, "1 target", "3 targets".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// indent puts each line of s on its own indented line.
func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// slogAdapter lets promhttp log its errors through slog.
type slogAdapter struct {
	logger interface{ Error(string, ...any) }
}

func (a slogAdapter) Println(v ...any) { a.logger.Error(fmt.Sprint(v...)) }
