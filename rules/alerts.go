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
	return fmt.Sprintf("{{ with printf `%s`%s | query }}%s{{ else }}%s{{ end }}", expr, all, body, fallback)
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
	return "busy " + p.query(ref, dutyCycle+p.AlertWindow+"{SEL}", first("humanizePercentage"), "an unknown share") +
		" of the observed time over the last " + p.AlertWindow
}

// costs renders both monthly costs of one model over the alert window.
func (p Params) costs(ref labelRef) string {
	w, month := p.AlertWindow, number(p.HoursPerMonth)
	alwaysOn := p.query(ref,
		fmt.Sprintf(`%s * sum by (offer) (%s%s{SEL,strategy="always_on"})`, month, costPerHour, w),
		"$"+first("humanize")+" a month on "+firstLabel("offer"), "an unknown amount")
	serverless := p.query(ref, fmt.Sprintf(`%s * %s%s{SEL}`, month, cheapest, w),
		firstLabel("offer")+" at $"+first("humanize")+" a month", "unknown")
	return "always-on costs " + alwaysOn + "; the cheapest serverless offer is " + serverless
}

// savingsQuery renders the monthly saving of one model over the alert window.
func (p Params) savingsQuery(ref labelRef) string {
	return p.query(ref, savings+p.AlertWindow+"{SEL}", "$"+first("humanize"), "an unknown amount")
}

func (p Params) thresholds() string {
	return fmt.Sprintf("by more than %s%% and $%s a month", number(100*p.SavingsRatio), number(p.SavingsDollars))
}

// alertGroup builds the four alerts.
func (p Params) alertGroup() group {
	w, on, by := p.AlertWindow, p.on(), p.by()
	present := fmt.Sprintf("%s%s > 0", observedRate, p.PresenceWindow)
	stzTargets := `placement_target_info{scale_to_zero="true"}`
	targets := "on (" + strings.Join(p.TargetLabels, ", ") + ")"
	coldStarts := p.query(alertLabel, bestWindow+w+"{SEL}",
		first("humanize")+" cold starts an hour at its cheapest scale-down window ("+firstLabel("window")+" s)",
		"an unknown number of cold starts")
	footer := func(cond string) string {
		return fmt.Sprintf("This alert fires when %s for %s, in a model observed in the last %s.",
			cond, promDuration(p.PlacementFor), p.PresenceWindow)
	}
	runbook := func(alert string) [2]string {
		return [2]string{"runbook_url", p.RunbookURL + strings.ToLower(alert)}
	}

	return group{
		comment:  "Alerts that flag misplaced models and gaps in what placement_exporter observes.",
		name:     "placement_alerts",
		interval: promDuration(p.EvaluationInterval),
		rules: []rule{{
			comment: fmt.Sprintf("Deployed always-on, and serverless is cheaper %s over %s.", p.thresholds(), w),
			alert:   alertShouldBeServerless,
			expr: fmt.Sprintf(`(
    %[1]s%[2]s{strategy="always_on"} > %[3]s
  and %[4]s
    %[1]s%[2]s{strategy="always_on"}
  > %[4]s
    %[5]s * %[6]s * sum %[7]s (%[8]s%[2]s{strategy="always_on"})
)
and %[4]s
  %[9]s`, savings, w, number(p.SavingsDollars), on, number(p.SavingsRatio), number(p.HoursPerMonth),
				by, costPerHour, present),
			forDur: promDuration(p.PlacementFor),
			labels: [][2]string{{"severity", p.PlacementSeverity}},
			annotations: [][2]string{
				{"summary", "Model {{ $labels.model }} would cost less on serverless GPUs than on its always-on GPUs."},
				{"description", "Model " + p.modelName(alertLabel) + " runs always-on and was " + p.duty(alertLabel) + ".\n" +
					"Over that time " + p.costs(alertLabel) + ".\n" +
					"Moving saves ${{ $value | humanize }} a month and brings " + coldStarts + ".\n" +
					footer("serverless is cheaper "+p.thresholds()) + "\n"},
				runbook(alertShouldBeServerless),
			},
		}, {
			comment: fmt.Sprintf("Deployed serverless, and always-on is cheaper %s over %s, or the cheapest\n"+
				"serverless setting brings more than %s cold starts an hour.", p.thresholds(), w,
				number(p.ColdStartsPerHour)),
			alert: alertShouldBeAlwaysOn,
			expr: fmt.Sprintf(`(
    (
        %[1]s%[2]s{strategy="serverless"} > %[3]s
      and %[4]s
        %[1]s%[2]s{strategy="serverless"}
      > %[4]s
        %[5]s * %[6]s * min %[7]s (%[8]s%[2]s)
    )
  or %[4]s
    (
        %[1]s%[2]s{strategy="serverless"}
      and %[4]s
        max %[7]s (%[9]s%[2]s) > %[10]s
    )
)
and %[4]s
  %[11]s`, savings, w, number(p.SavingsDollars), on, number(p.SavingsRatio), number(p.HoursPerMonth),
				by, cheapest, bestWindow, number(p.ColdStartsPerHour), present),
			forDur: promDuration(p.PlacementFor),
			labels: [][2]string{{"severity", p.PlacementSeverity}},
			annotations: [][2]string{
				{"summary", "Model {{ $labels.model }} would cost less, or start cold less often, on an always-on GPU than on serverless."},
				{"description", "Model " + p.modelName(alertLabel) + " runs serverless and was " + p.duty(alertLabel) + ".\n" +
					"Over that time " + p.costs(alertLabel) + ".\n" +
					"Moving saves ${{ $value | humanize }} a month; serverless brings " + coldStarts + ".\n" +
					footer("always-on is cheaper "+p.thresholds()+
						fmt.Sprintf(", or serverless brings more than %s cold starts an hour,", number(p.ColdStartsPerHour))) +
					"\n"},
				runbook(alertShouldBeAlwaysOn),
			},
		}, {
			comment: "A target failed its polls; scale-to-zero targets are expected to and are left out.",
			alert:   alertTargetDown,
			expr: fmt.Sprintf(`placement_target_up == 0
unless %s
%s`, targets, stzTargets),
			forDur: promDuration(p.TargetDownFor),
			labels: [][2]string{{"severity", p.TargetDownSeverity}},
			annotations: [][2]string{
				{"summary", "placement_exporter cannot poll target {{ $labels.target }}."},
				{"description", fmt.Sprintf("Target {{ $labels.target }} (job {{ $labels.job }}) has failed every poll "+
					"for %s, so the duty cycle and costs of the models it serves stand still.\n"+
					"{{ range $m := printf `placement_model_info{%s}` %s | query }}"+
					"%s was %s; %s; moving saves %s a month.\n"+
					"{{ else }}No model is known on it.\n{{ end }}"+
					"Targets marked scale_to_zero are not counted.\n",
					promDuration(p.TargetDownFor), p.targetMatchers(), p.targetArgs(), p.modelName(rangedLabel),
					p.duty(rangedLabel), p.costs(rangedLabel), p.savingsQuery(rangedLabel))},
				runbook(alertTargetDown),
			},
		}, {
			comment: "A model whose observed counter stood still, unless PlacementExporterTargetDown\n" +
				"covers its target. The exporter counts a scale-to-zero target it cannot reach as idle,\n" +
				"so there this fires only when the server answers without the model.",
			alert: alertNotObserved,
			expr: fmt.Sprintf(`increase(placement_model_observed_seconds_total[%s]) == 0
unless %s
(
    placement_target_up == 0
  unless %s
    %s
)`, promDuration(p.NotObservedFor), targets, targets, stzTargets),
			labels: [][2]string{{"severity", p.NotObservedSeverity}},
			annotations: [][2]string{
				{"summary", fmt.Sprintf("placement_exporter has not observed model {{ $labels.model }} on "+
					"{{ $labels.target }} for %s.", promDuration(p.NotObservedFor))},
				{"description", fmt.Sprintf("Target {{ $labels.target }} answers its polls, but model %s has not "+
					"been seen on its page for %s, so its duty cycle and costs stand still.\n"+
					"Until then it was %s; %s; moving saves %s a month.\n",
					p.modelName(alertLabel), promDuration(p.NotObservedFor),
					p.duty(alertLabel), p.costs(alertLabel), p.savingsQuery(alertLabel))},
				runbook(alertNotObserved),
			},
		}},
	}
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
