# placement_exporter: run `make demo` to see it work, `make test` to check everything.

GO        ?= go
BIN       := bin
PORT      ?= 9847
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  := $(shell git rev-parse HEAD 2>/dev/null)
BRANCH    := $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null)
VPKG      := github.com/prometheus/common/version
LDFLAGS   := -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) \
             -X $(VPKG).Branch=$(BRANCH) -X $(VPKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

.PHONY: all build test unit e2e rules-test checkmetrics deps lint bench bench-accuracy \
        generate demo docker clean

all: build

## build: compile placement_exporter and fleetsim into bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/placement_exporter ./cmd/placement_exporter
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/fleetsim ./cmd/fleetsim

## test: every test: Go unit and component tests (race detector on), the
## rule tests with promtool 2.x and 3.x, the golden scrape through promtool,
## and the end-to-end test with Prometheus and Alertmanager
test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) --no-print-directory checkmetrics rules-test

## unit: the Go tests without the end-to-end test (no servers needed)
unit:
	$(GO) test -short -count=1 ./...

## e2e: fleetsim, the exporter, Prometheus and Alertmanager, end to end
e2e: deps
	$(GO) test -count=1 -v -run 'EndToEnd|ReachesWebhook' ./e2e

## rules-test: promtool check and test of the rule files, with promtool 2.x
## (Debian's) and 3.x (built from tools/go.mod)
rules-test: deps
	rules/test.sh

## checkmetrics: the golden scrape must pass promtool check metrics
checkmetrics: deps
	promtool check metrics < collector/testdata/golden.prom

## deps: install Prometheus, promtool and Alertmanager from Debian if missing
deps:
	@missing=; \
	for b in prometheus promtool prometheus-alertmanager amtool; do \
		command -v $$b >/dev/null || missing=1; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing prometheus and prometheus-alertmanager from Debian"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends prometheus prometheus-alertmanager >/dev/null; \
		else \
			echo "the tests need Prometheus and Alertmanager: run" \
				"'sudo apt-get install prometheus prometheus-alertmanager' and retry"; \
			exit 1; \
		fi; \
	fi

## lint: formatting, vet, staticcheck and the rule files
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || \
		{ echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	promtool check rules rules/placement.rules.yml rules/placement.alerts.yml rules/rules-only.yml

## bench: speed and memory benchmarks (figures are ratios to a baseline
## measured in the same run)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-accuracy: the estimator against the exact truth; rewrites docs/accuracy.md
bench-accuracy:
	$(GO) run ./cmd/fleetsim accuracy --out docs/accuracy.md

## generate: regenerate the rule files and dashboards from their Go sources
generate:
	$(GO) generate ./rules/... ./dashboards/...

## demo: fleetsim serving six simulated models and the exporter polling them
## on 127.0.0.1:$(PORT); Ctrl-C stops both
demo: build
	@set -e; dir=$$(mktemp -d); \
	stop() { kill $$fs $$ex 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$$dir"; }; \
	trap 'stop; echo; echo "demo stopped"; exit 0' INT TERM; trap stop EXIT; \
	$(BIN)/fleetsim --exporter-config.out "$$dir/placement_exporter.yml" \
		--truth.file "$$dir/truth.json" --log.level warn > "$$dir/fleetsim.out" & fs=$$!; \
	for i in $$(seq 50); do [ -s "$$dir/placement_exporter.yml" ] && break; sleep 0.1; done; \
	[ -s "$$dir/placement_exporter.yml" ] || { echo "fleetsim did not start:"; cat "$$dir/fleetsim.out"; exit 1; }; \
	$(BIN)/placement_exporter --config.file "$$dir/placement_exporter.yml" \
		--web.listen-address 127.0.0.1:$(PORT) --log.level warn & ex=$$!; \
	sleep 1; kill -0 $$ex 2>/dev/null || { echo "placement_exporter did not start (is port $(PORT) free? set PORT=...)"; exit 1; }; \
	echo; echo "Simulated inference servers (fleetsim):"; sed 's/^/  /' "$$dir/fleetsim.out"; \
	echo; echo "placement_exporter:  http://127.0.0.1:$(PORT)/metrics"; \
	echo "exact ground truth of each simulated server:"; \
	awk '{print $$4}' "$$dir/fleetsim.out" | sed 's#^\(http://[^/]*\)/.*#  \1/truth#' | sort -u; \
	echo; echo "Busy and observed seconds of every model appear within 30 s:"; \
	echo "  curl -s http://127.0.0.1:$(PORT)/metrics | grep -E '^placement_model_(busy|observed)_seconds_total'"; \
	echo "Press Ctrl-C to stop."; \
	wait $$ex

## docker: build the container image (needs a Docker engine)
docker:
	docker build --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) -t placement_exporter:$(VERSION) .

clean:
	rm -rf $(BIN) .build
