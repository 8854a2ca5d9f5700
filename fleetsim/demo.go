package fleetsim

// DemoFleet is the built-in fleet: three steady models deployed always-on
// (busy more than 90% of the time), two bursty models deployed serverless
// (duty cycle about 5-15%, quiet for minutes) and one bursty model deployed
// always-on that would be cheaper serverless (duty cycle under 10%). Bursty
// models start with a burst, so every model has traffic within 30 s.
const DemoFleet = `# The built-in demo fleet of fleetsim.
servers:
  - name: chat
    format: vllm
    strategy: always_on
    gpu: H100
    gpus_per_replica: 1
    labels: {fleet: demo}
    models:
      - name: llama-3.1-8b-instruct
        max_concurrency: 32
        prefill_tokens_per_second: 8000
        time_per_output_token: 20ms
        kv_capacity_tokens: 120000
        traffic:
          kind: poisson
          rate: 3
          prompt_tokens: {dist: lognormal, median: 800, sigma: 0.7, max: 8000}
          output_tokens: {dist: lognormal, median: 200, sigma: 0.6, max: 1000}

  - name: code
    format: sglang
    strategy: always_on
    gpu: H100
    gpus_per_replica: 1
    labels: {fleet: demo}
    models:
      - name: qwen2.5-coder-32b-instruct
        max_concurrency: 48
        prefill_tokens_per_second: 4000
        time_per_output_token: 35ms
        kv_capacity_tokens: 200000
        traffic:
          kind: poisson
          rate: 2
          prompt_tokens: {dist: lognormal, median: 1500, sigma: 0.6, max: 12000}
          output_tokens: {dist: lognormal, median: 250, sigma: 0.5, max: 1000}

  - name: triton
    format: triton
    strategy: always_on
    gpu: L4
    gpus_per_replica: 1
    labels: {fleet: demo}
    models:
      - name: mistral-7b-instruct
        max_concurrency: 16
        prefill_tokens_per_second: 6000
        time_per_output_token: 25ms
        kv_capacity_tokens: 60000
        traffic:
          kind: poisson
          rate: 2.5
          prompt_tokens: {dist: lognormal, median: 600, sigma: 0.6, max: 6000}
          output_tokens: {dist: lognormal, median: 150, sigma: 0.5, max: 800}
      - name: ticket-summarizer
        max_concurrency: 8
        prefill_tokens_per_second: 6000
        time_per_output_token: 25ms
        kv_capacity_tokens: 60000
        traffic:
          kind: bursts
          rate: 0.6
          on: {dist: uniform, min: 4s, max: 12s}
          off: {dist: uniform, min: 45s, max: 4m}
          prompt_tokens: {dist: lognormal, median: 2000, sigma: 0.4, max: 6000}
          output_tokens: {dist: lognormal, median: 120, sigma: 0.4, max: 400}

  - name: assistant
    format: tgi
    strategy: serverless
    gpu: L4
    gpus_per_replica: 1
    labels: {fleet: demo}
    models:
      - name: phi-3-mini-4k-instruct
        max_concurrency: 8
        prefill_tokens_per_second: 3000
        time_per_output_token: 30ms
        kv_capacity_tokens: 16000
        traffic:
          kind: bursts
          rate: 1.5
          on: {dist: uniform, min: 15s, max: 40s}
          off: {dist: uniform, min: 2m, max: 6m}
          prompt_tokens: {dist: lognormal, median: 300, sigma: 0.5, max: 511}
          output_tokens: {dist: lognormal, median: 120, sigma: 0.5, max: 512}

  - name: edge
    format: llamacpp
    strategy: serverless
    gpu: L4
    gpus_per_replica: 1
    labels: {fleet: demo}
    models:
      - name: gemma-2-2b-it
        max_concurrency: 4
        prefill_tokens_per_second: 1500
        time_per_output_token: 25ms
        kv_capacity_tokens: 8192
        traffic:
          kind: bursts
          rate: 0.7
          on: {dist: uniform, min: 10s, max: 30s}
          off: {dist: uniform, min: 3m, max: 8m}
          prompt_tokens: {dist: lognormal, median: 400, sigma: 0.5, max: 2000}
          output_tokens: {dist: lognormal, median: 150, sigma: 0.5, max: 600}
`

// LoadDemoFleet returns the built-in demo fleet.
func LoadDemoFleet() *FleetFile {
	f, err := ParseFleet("demo fleet", []byte(DemoFleet))
	if err != nil {
		panic(err) // the constant above is checked by the tests
	}
	return f
}
