package collector

import (
	"testing"
	"time"

	"github.com/placement-exporter/placement_exporter/collector/billing"
	"github.com/placement-exporter/placement_exporter/config"
)

func TestCheckCosts(t *testing.T) {
	cat := billing.DefaultCatalog()
	for _, tc := range []struct{ name, target, want string }{
		{"good", "gpu: H100, serverless_offers: [modal/H100], always_on_offer: aws/p5.4xlarge", ""},
		{"no gpu, no costs", "strategy: always_on", ""},
		{"gpu case", "gpu: h100",
			`t.yml:2: targets[0]: GPU "h100" is not in the price catalog; did you mean "H100"? (GPU types are case-sensitive)`},
		{"unknown gpu", "gpu: A100",
			`t.yml:2: targets[0]: GPU "A100" is not in the price catalog (GPU types priced: A10, A100-40GB, A100-80GB, A10G, B200, H100, H100-NVL, H200, L4, L40S, T4; add it with --prices.file)`},
		{"unknown serverless offer", "gpu: H100, serverless_offers: [modal/h100]",
			`t.yml:2: targets[0]: serverless offer "modal/h100" is not in the price catalog (did you mean "modal/H100"? offers of modal: modal/A100-40GB, modal/A100-80GB, modal/A10G, modal/B200, modal/H100, modal/H200, modal/L4, modal/L40S, modal/T4)`},
		{"always-on offer listed as serverless", "gpu: H100, serverless_offers: [aws/p5.4xlarge]",
			`t.yml:2: targets[0]: offer "aws/p5.4xlarge" is always-on; list it as always_on_offer, not under serverless_offers`},
		{"offer for another gpu", "gpu: L4, always_on_offer: aws/p5.4xlarge",
			`t.yml:2: targets[0]: always_on_offer "aws/p5.4xlarge" is for GPU H100, but the model runs on L4`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte("targets:\n  - {url: http://127.0.0.1:8000/metrics, "+tc.target+"}\n"), "t.yml")
			if err != nil {
				t.Fatal(err)
			}
			err = CheckCosts(cfg, cat)
			if got := errString(err); got != tc.want {
				t.Errorf("error:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestPlanCostsWhatIfWindows(t *testing.T) {
	// Modal is the cheapest H100 serverless offer per second among these
	// two; its default window (60 s) is simulated once, and a 1 s window,
	// outside Modal's allowed 2-1200 s, is not a choice.
	p, err := planCosts(billing.DefaultCatalog(), config.Settings{
		GPU: "H100", GPUsPerReplica: 1, Replicas: 1,
		ServerlessOffers: []string{"replicate/H100", "modal/H100"},
	}, []time.Duration{time.Second, 5 * time.Second, time.Minute, 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sp := range p.serverless {
		tag := ""
		if sp.whatIf {
			tag = " what-if"
		}
		got = append(got, sp.offer.ID+"@"+formatWindow(sp.window)+tag)
	}
	want := []string{"replicate/H100@180", "modal/H100@60", "modal/H100@5 what-if", "modal/H100@300 what-if"}
	if len(got) != len(want) {
		t.Fatalf("plan = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("plan = %v, want %v", got, want)
			break
		}
	}
	if p.alwaysOn.ID != "runpod_pods/h100-pcie-community" {
		t.Errorf("always-on offer = %s, want the cheapest on-demand H100 offer", p.alwaysOn.ID)
	}
}
