package rules

import (
	"fmt"
	"strings"
)

// RulesOnlyAccuracy is the sentence that states how far the rules-only duty
// cycle strays from the truth, from the accuracy benchmark (docs/accuracy.md,
// "PromQL 15s" column) next to placement_exporter's figure at its default
// poll interval.
const RulesOnlyAccuracy = "On the accuracy benchmark (docs/accuracy.md) this hourly duty cycle is off by\n" +
	"up to 6.2 percentage points (placement_exporter: 0.5), and a serverless bill built\n" +
	"from it comes out up to 88% too low for sparse models with short requests."

const (
	roDutyCycle = "model:inference_server_duty_cycle:ratio_avg"
	roIdle      = "model:inference_server_idle:ratio_avg"
)

// rulesOnlyLabels are the grouping labels with the inference servers' own
// model label in place of "model".
func (p Params) rulesOnlyLabels() []string {
	var labels []string
	for _, l := range p.GroupBy {
		if l == "model" {
			l = p.RulesOnlyModelLabel
		}
		labels = append(labels, l)
	}
	return labels
}

// rulesOnlyGroup approximates duty cycle and idle share from the gauges
// vLLM and SGLang already expose, for users who cannot run the exporter.
func (p Params) rulesOnlyGroup() group {
	labels := p.rulesOnlyLabels()
	by := "by (" + strings.Join(labels, ", ") + ")"
	byInstance := "by (" + strings.Join(append(labels, "instance"), ", ") + ")"
	first := p.Windows[0]

	g := group{
		comment: "Approximate duty cycle and idle share straight from inference server metrics.",
		name:    "placement_rules_only",
		// The longer windows average the first one, so they share its interval.
		interval: promDuration(first.Interval),
	}
	g.rules = append(g.rules, rule{
		comment: fmt.Sprintf("Share of %s-spaced instants with a request running or waiting,\n"+
			"per replica, averaged over replicas. \"> bool 0\" turns an idle instant into 0\n"+
			"instead of dropping it.",
			promDuration(p.ScrapeInterval)),
		record: roDutyCycle + first.Name,
		expr: fmt.Sprintf(`avg %[1]s (
  avg_over_time(
    (
      (
          (
              sum %[2]s (vllm:num_requests_running)
            + sum %[2]s (vllm:num_requests_waiting)
          )
        or
          (
              sum %[2]s (sglang:num_running_reqs)
            + sum %[2]s (sglang:num_queue_reqs)
          )
      ) > bool 0
    )[%[3]s:%[4]s]
  )
)`, by, byInstance, promDuration(first.Range), promDuration(p.ScrapeInterval)),
	})
	for _, w := range p.Windows[1:] {
		g.rules = append(g.rules, rule{
			record: roDutyCycle + w.Name,
			expr: fmt.Sprintf("avg_over_time(%s%s[%s])",
				roDutyCycle, first.Name, promDuration(w.Range)),
		})
	}
	for i, w := range p.Windows {
		r := rule{record: roIdle + w.Name, expr: "1 - " + roDutyCycle + w.Name}
		if i == 0 {
			r.comment = "Idle share: the rest of the sampled time."
		}
		g.rules = append(g.rules, r)
	}
	return g
}
