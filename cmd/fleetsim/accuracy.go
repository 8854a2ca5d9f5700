package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/placement-exporter/placement_exporter/config"
	"github.com/placement-exporter/placement_exporter/fleetsim/accuracy"
)

// runAccuracy runs the accuracy benchmark, writes its report to out and
// prints its conclusion last. It fails when the default poll interval does
// not meet the targets.
func runAccuracy(out string, seeds int) int {
	if seeds < 1 {
		fmt.Fprintln(os.Stderr, "fleetsim accuracy: --seeds must be at least 1")
		return 2
	}
	scenarios, err := accuracy.Scenarios(accuracy.TracePath())
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetsim accuracy:", err)
		return 1
	}
	rows, err := accuracy.Run(scenarios, seeds, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetsim accuracy:", err)
		return 1
	}
	s := accuracy.Summarize(rows, config.DefaultPollInterval)
	var b bytes.Buffer
	accuracy.WriteMarkdown(&b, scenarios, rows, seeds, s)
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "fleetsim accuracy:", err)
		return 1
	}
	fmt.Printf("wrote %s\n", out)
	code := 0
	if s.Largest != s.Default {
		fmt.Printf("the default poll interval is %s, but the largest meeting every target is %s\n", s.Default, s.Largest)
		code = 1
	}
	if !s.FifthOfBaseline {
		fmt.Println("the exporter's error is not within a fifth of the PromQL baseline's everywhere it misses by more than 1 pp")
		code = 1
	}
	fmt.Println(s.LastLine())
	return code
}
