// Command gen writes the rule files of package rules. With no flags it
// writes the committed files ("go generate ./rules"); -group-by renders them
// for other grouping labels, for example "namespace,model".
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/placement-exporter/placement_exporter/rules"
)

func main() {
	p := rules.DefaultParams()
	dir := flag.String("dir", ".", "directory to write the rule files into")
	groupBy := flag.String("group-by", strings.Join(p.GroupBy, ","),
		"comma-separated labels that identify one model across its replicas; must include model")
	flag.Parse()

	p.GroupBy = strings.Split(*groupBy, ",")
	if err := run(p, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(p rules.Params, dir string) error {
	f, err := rules.Generate(p)
	if err != nil {
		return err
	}
	for name, data := range f.ByName() {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
