package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"gpu", "gpu", 0}, {"", "abc", 3}, {"modle", "model", 2},
		{"stratgy", "strategy", 1}, {"kitten", "sitting", 3},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	known := []string{"gpu", "model", "strategy", "url"}
	for s, want := range map[string]string{
		"stratgy": "strategy", "modle": "model", "gpus": "gpu", "replicas": "", "": "",
	} {
		if got := Closest(s, known); got != want {
			t.Errorf("Closest(%q) = %q, want %q", s, got, want)
		}
	}
}
