#!/usr/bin/env bash
# Checks and unit-tests the rule files with two promtools: Prometheus 2.42's
# (Debian 12's package, the oldest release the rules support) and 3.x, built
# from the version pinned in tools/go.mod. Expectations in tests/ hold for both.
# Also checks the example Prometheus and Alertmanager configurations.
#
# Environment: PROMTOOL2, PROMTOOL3 and AMTOOL override the binaries.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$here"

files=(placement.rules.yml placement.alerts.yml rules-only.yml)
tests=(tests/*.test.yml)

promtool2=${PROMTOOL2:-promtool}
if ! command -v "$promtool2" >/dev/null; then
	echo "rules/test.sh: $promtool2 not found: install Prometheus 2.x's promtool" \
		"(apt-get install prometheus) or set PROMTOOL2" >&2
	exit 1
fi

# promtool 3.x is built once into .build/ and rebuilt when tools/go.mod changes.
promtool3=${PROMTOOL3:-$root/.build/promtool}
if [[ -z ${PROMTOOL3:-} && (! -x $promtool3 || $root/tools/go.mod -nt $promtool3) ]]; then
	version=$(cd "$root/tools" && go list -m -f '{{.Version}}' github.com/prometheus/prometheus)
	echo "rules/test.sh: building promtool $version into .build/ (minutes the first time)"
	mkdir -p "$root/.build"
	(cd "$root/tools" && go build -o "$promtool3" \
		-ldflags "-X github.com/prometheus/common/version.Version=$version" \
		github.com/prometheus/prometheus/cmd/promtool)
fi

for tool in "$promtool2" "$promtool3"; do
	echo "== $("$tool" --version 2>&1 | head -n 1)"
	"$tool" check rules --lint=all --lint-fatal "${files[@]}"
	"$tool" test rules "${tests[@]}"
	"$tool" check config "$root/examples/prometheus.yml"
done

amtool=${AMTOOL:-amtool}
if ! command -v "$amtool" >/dev/null; then
	echo "rules/test.sh: $amtool not found: install it (apt-get install prometheus-alertmanager) or set AMTOOL" >&2
	exit 1
fi
"$amtool" check-config "$root/examples/alertmanager.yml"
