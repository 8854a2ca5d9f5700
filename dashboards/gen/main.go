// Command gen writes the Grafana dashboards of package dashboards. With no
// flags it writes the committed files ("go generate ./dashboards").
// -group-by renders them for other grouping labels; pass rules/gen the same
// labels so that the dashboards read the series the rules record.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/placement-exporter/placement_exporter/dashboards"
	"github.com/placement-exporter/placement_exporter/rules"
)

func main() {
	p := rules.DefaultParams()
	dir := flag.String("dir", ".", "directory to write "+dashboards.OverviewFile+" and "+
		dashboards.ModelFile+" into")
	groupBy := flag.String("group-by", strings.Join(p.GroupBy, ","),
		"comma-separated labels that identify one model across its replicas, as given to rules/gen")
	flag.Parse()

	p.GroupBy = strings.Split(*groupBy, ",")
	if err := dashboards.Write(p, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
