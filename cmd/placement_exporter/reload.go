package main

import (
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/placement-exporter/placement_exporter/collector"
	"github.com/placement-exporter/placement_exporter/collector/billing"
	"github.com/placement-exporter/placement_exporter/config"
)

// configLoader reads the configuration file and the price catalog, and
// checks that every model's cost settings resolve against the catalog.
type configLoader struct {
	file   string
	prices string // empty: the built-in catalog
}

func (l *configLoader) load() (*config.Config, *billing.Catalog, error) {
	cfg, err := config.Load(l.file)
	if err != nil {
		return nil, nil, err
	}
	cat := billing.DefaultCatalog()
	if l.prices != "" {
		if cat, err = billing.LoadCatalog(l.prices); err != nil {
			return nil, nil, err
		}
	}
	if err := collector.CheckCosts(cfg, cat); err != nil {
		return nil, nil, err
	}
	return cfg, cat, nil
}

// reloader re-reads the configuration on SIGHUP or POST /-/reload. A bad
// file keeps the last good configuration running.
type reloader struct {
	mu      sync.Mutex
	loader  *configLoader
	exp     *collector.Exporter
	logger  *slog.Logger
	success prometheus.Gauge
	last    prometheus.Gauge
}

func newReloader(l *configLoader, exp *collector.Exporter, logger *slog.Logger, reg prometheus.Registerer) *reloader {
	r := &reloader{
		loader: l,
		exp:    exp,
		logger: logger,
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "placement_exporter_config_last_reload_successful",
			Help: "1 if the last attempt to load the configuration file succeeded, 0 if it failed and the previous configuration is still in use.",
		}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "placement_exporter_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful load of the configuration file.",
		}),
	}
	reg.MustRegister(r.success, r.last)
	r.success.Set(1)
	r.last.SetToCurrentTime()
	return r
}

func (r *reloader) reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, cat, err := r.loader.load()
	if err != nil {
		r.success.Set(0)
		r.logger.Error("configuration reload failed, keeping the last good configuration", "file", r.loader.file, "err", err)
		return err
	}
	r.exp.Apply(cfg, cat)
	r.success.Set(1)
	r.last.Set(float64(time.Now().UnixNano()) / 1e9)
	r.logger.Info("configuration reloaded", "file", r.loader.file, "targets", len(cfg.Targets))
	return nil
}
