// Command gen writes the rule files of package rules with their default
// parameters. Run it through "go generate ./rules".
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/placement-exporter/placement_exporter/rules"
)

func main() {
	dir := flag.String("dir", ".", "directory to write the rule files into")
	flag.Parse()

	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	f, err := rules.Generate(rules.DefaultParams())
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
