package rules

import (
	"fmt"
	"strings"
)

// Alert names.
const (
	alertShouldBeServerless = "PlacementModelShouldBeServerless"
	alertShouldBeAlwaysOn   = "PlacementModelShouldBeAlwaysOn"
	alertTargetDown         = "PlacementExporterTargetDown"
	alertNotObserved        = "PlacementModelNotObserved"
)

// labelRef renders a template reference to one label of the alert or of a
// query result being ranged over.
type labelRef func(name string) string

func alertLabel(name string) string { return "$labels." + name }

func rangedLabel(name string) string { return "$m.Labels." + name }

// query renders a template fragment that runs expr for one model and
// executes body with the result list as dot, or prints fallback when the
// result is empty. In expr, SEL stands for the matchers of the model's
// grouping labels, taken from ref; label values are quoted with %q.
func (p Params) query(ref labelRef, expr, body, fallback string) string {
	var matchers, args []string
	for _, l := range p.GroupBy {
		matchers = append(matchers, l+"=%q")
		args = append(args, ref(l))
	}
	uses := strings.Count(expr, "SEL")
	expr = strings.ReplaceAll(expr, "SEL", strings.Join(matchers, ","))
	all := strings.Repeat(" "+strings.Join(args, " "), uses)
	return fmt.Sprintf("{{ with printf `%s`%s | query }}%s{{ else }}%s{{ end }}",
		expr, all, body, fallback)
}

// first renders the value of the first query result through format.
func first(format string) string { return "{{ . | first | value | " + format + " }}" }

// firstLabel renders a label of the first query result.
func firstLabel(name string) string { return `{{ . | first | label "` + name + `" }}` }

// modelName renders "m" followed by its other grouping labels, such as
// "m in cluster c", leaving out the empty ones.
func (p Params) modelName(ref labelRef) string {
	s := "{{ " + ref("model") + " }}"
	for _, l := range p.GroupBy {
		if l != "model" {
			s += fmt.Sprintf("{{ with %s }} in %s {{ . }}{{ end }}", ref(l), l)
		}
	}
	return s
}

// duty renders the duty cycle of one model over the alert window.
func (p Params) duty(ref labelRef) string {
	d := p.query(ref, DutyCycleRecord+p.AlertWindow+"{SEL}", first("humanizePercentage"), "an unknown share")
	return "busy " + d + " of the observed time over the last " + p.AlertWindow
}

// costs renders both monthly costs of one model over the alert window.
func (p Params) costs(ref labelRef) string {
	w, month := p.AlertWindow, number(p.HoursPerMonth)
	alwaysOn := p.query(ref,
		fmt.Sprintf(`%s * sum by (offer) (%s%s{SEL,strategy="always_on"})`, month, CostPerHourRecord, w),
		"$"+first("humanize")+" a month on "+firstLabel("offer"), "an unknown amount")
	serverless := p.query(ref, fmt.Sprintf(`%s * %s%s{SEL}`, month, CheapestRecord, w),
		firstLabel("offer")+" at $"+first("humanize")+" a month", "unknown")
	return "always-on costs " + alwaysOn + "; the cheapest serverless offer is " + serverless
}

// savingsQuery renders the monthly saving of one model over the alert window.
func (p Params) savingsQuery(ref labelRef) string {
	return p.query(ref, SavingsRecord+p.AlertWindow+"{SEL}", "$"+first("humanize"), "an unknown amount")
}

func (p Params) thresholds() string {
	return fmt.Sprintf("by more than %s%% and $%s a month",
		number(100*p.SavingsRatio), number(p.SavingsDollars))
}

// alertGroup builds the four alerts.
func (p Params) alertGroup() group {
	return group{
		comment:  "Alerts that flag misplaced models and gaps in what placement_exporter observes.",
		name:     "placement_alerts",
		interval: promDuration(p.EvaluationInterval),
		rules: []rule{
			p.shouldBeServerless(), p.shouldBeAlwaysOn(), p.targetDown(), p.notObserved(),
		},
	}
}

func (p Params) shouldBeServerless() rule {
	current := fmt.Sprintf(`sum %s (%s%s{strategy="always_on"})`, p.by(), CostPerHourRecord, p.AlertWindow)
	return p.placementRule(alertShouldBeServerless,
		fmt.Sprintf("Deployed always-on, and serverless is cheaper %s over %s.",
			p.thresholds(), p.AlertWindow),
		fmt.Sprintf("(\n%s\n)\nand %s\n  %s", p.savesEnough("always_on", current, "  "), p.on(), p.present()),
		"Model {{ $labels.model }} would cost less on serverless GPUs than on its always-on GPUs.",
		p.placementDescription("always-on", " and brings ", "serverless is cheaper "+p.thresholds()))
}

func (p Params) shouldBeAlwaysOn() rule {
	w, on := p.AlertWindow, p.on()
	coldStarts := number(p.ColdStartsPerHour)
	current := fmt.Sprintf("min %s (%s%s)", p.by(), CheapestRecord, w)
	return p.placementRule(alertShouldBeAlwaysOn,
		fmt.Sprintf("Deployed serverless, and always-on is cheaper %s over %s,\n"+
			"or the cheapest serverless setting brings more than %s cold starts an hour.",
			p.thresholds(), w, coldStarts),
		fmt.Sprintf(`(
    (
%[1]s
    )
  or %[2]s
    (
        %[3]s%[4]s{strategy="serverless"}
      and %[2]s
        max %[5]s (%[6]s%[4]s) > %[7]s
    )
)
and %[2]s
  %[8]s`, p.savesEnough("serverless", current, "      "), on, SavingsRecord, w, p.by(), BestWindowRecord,
			coldStarts, p.present()),
		"Model {{ $labels.model }} would cost less, or start cold less often, "+
			"on an always-on GPU than on serverless.",
		p.placementDescription("serverless", "; serverless brings ",
			"always-on is cheaper "+p.thresholds()+
				", or serverless brings more than "+coldStarts+" cold starts an hour,"))
}

// savesEnough selects the monthly savings of models deployed with strategy
// that pass both thresholds: the dollars, and the ratio to current, their
// hourly cost today. Lines are indented by indent.
func (p Params) savesEnough(strategy, current, indent string) string {
	saving := fmt.Sprintf("%s%s{strategy=%q}", SavingsRecord, p.AlertWindow, strategy)
	return strings.Join([]string{
		indent + "  " + saving + " > " + number(p.SavingsDollars),
		indent + "and " + p.on(),
		indent + "  " + saving,
		indent + "> " + p.on(),
		indent + fmt.Sprintf("  %s * %s * %s", number(p.SavingsRatio), number(p.HoursPerMonth), current),
	}, "\n")
}

// placementRule fills in what the two placement alerts share.
func (p Params) placementRule(alert, comment, expr, summary, description string) rule {
	return rule{
		comment: comment,
		alert:   alert,
		expr:    expr,
		forDur:  promDuration(p.PlacementFor),
		labels:  [][2]string{{"severity", p.PlacementSeverity}},
		annotations: [][2]string{
			{"summary", summary},
			{"description", description},
			p.runbook(alert),
		},
	}
}

func (p Params) targetDown() rule {
	return rule{
		comment: "A target failed its polls; scale-to-zero targets are expected to, and left out.",
		alert:   alertTargetDown,
		expr:    "placement_target_up == 0\nunless " + p.onTarget() + "\n" + stzTargets,
		forDur:  promDuration(p.TargetDownFor),
		labels:  [][2]string{{"severity", p.TargetDownSeverity}},
		annotations: [][2]string{
			{"summary", "placement_exporter cannot poll target {{ $labels.target }}."},
			{"description", fmt.Sprintf("Target {{ $labels.target }} (job {{ $labels.job }}) "+
				"has failed every poll for %s, so the duty cycle and costs of the models it serves "+
				"stand still.\n"+
				"{{ range $m := printf `placement_model_info{%s}` %s | query }}"+
				"%s was %s; %s; moving saves %s a month.\n"+
				"{{ else }}No model is known on it.\n{{ end }}"+
				"Targets marked scale_to_zero are not counted.\n",
				promDuration(p.TargetDownFor), p.targetMatchers(), p.targetArgs(),
				p.modelName(rangedLabel), p.duty(rangedLabel), p.costs(rangedLabel),
				p.savingsQuery(rangedLabel))},
			p.runbook(alertTargetDown),
		},
	}
}

func (p Params) notObserved() rule {
	d := promDuration(p.NotObservedFor)
	return rule{
		comment: "A model whose observed counter stood still, unless PlacementExporterTargetDown\n" +
			"covers its target. The exporter counts an unreachable scale-to-zero target as idle,\n" +
			"so there this fires only when the server answers without the model.",
		alert: alertNotObserved,
		expr: fmt.Sprintf(`increase(placement_model_observed_seconds_total[%s]) == 0
unless %s
(
    placement_target_up == 0
  unless %s
    %s
)`, d, p.onTarget(), p.onTarget(), stzTargets),
		labels: [][2]string{{"severity", p.NotObservedSeverity}},
		annotations: [][2]string{
			{"summary", "placement_exporter has not observed model {{ $labels.model }} on " +
				"{{ $labels.target }} for " + d + "."},
			{"description", fmt.Sprintf("Target {{ $labels.target }} answers its polls, but model %s "+
				"has not been seen on its page for %s, so its duty cycle and costs stand still.\n"+
				"Until then it was %s; %s; moving saves %s a month.\n",
				p.modelName(alertLabel), d, p.duty(alertLabel), p.costs(alertLabel),
				p.savingsQuery(alertLabel))},
			p.runbook(alertNotObserved),
		},
	}
}

// stzTargets selects the targets that scale to zero.
const stzTargets = `placement_target_info{scale_to_zero="true"}`

// present selects the models observed within the presence window.
func (p Params) present() string {
	return fmt.Sprintf("%s%s > 0", ObservedRecord, p.PresenceWindow)
}

// onTarget matches series of the same polled target.
func (p Params) onTarget() string {
	return "on (" + strings.Join(p.TargetLabels, ", ") + ")"
}

func (p Params) runbook(alert string) [2]string {
	return [2]string{"runbook_url", p.RunbookURL + strings.ToLower(alert)}
}

// placementDescription renders the description of a placement alert: the
// model, its duty cycle and costs, the monthly saving ($value) joined by
// link to the cold starts at the cheapest serverless setting, and when the
// alert fires (cond).
func (p Params) placementDescription(deployed, link, cond string) string {
	coldStarts := p.query(alertLabel, BestWindowRecord+p.AlertWindow+"{SEL}",
		first("humanize")+" cold starts an hour at its cheapest scale-down window ("+
			firstLabel("window")+" s)",
		"an unknown number of cold starts")
	return "Model " + p.modelName(alertLabel) + " runs " + deployed + " and was " +
		p.duty(alertLabel) + ".\n" +
		"Over that time " + p.costs(alertLabel) + ".\n" +
		"Moving saves ${{ $value | humanize }} a month" + link + coldStarts + ".\n" +
		fmt.Sprintf("This alert fires when %s for %s, in a model observed in the last %s.\n",
			cond, promDuration(p.PlacementFor), p.PresenceWindow)
}

func (p Params) targetMatchers() string {
	var m []string
	for _, l := range p.TargetLabels {
		m = append(m, l+"=%q")
	}
	return strings.Join(m, ",")
}

func (p Params) targetArgs() string {
	var a []string
	for _, l := range p.TargetLabels {
		a = append(a, alertLabel(l))
	}
	return strings.Join(a, " ")
}
