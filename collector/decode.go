package collector

import (
	"strings"

	"github.com/placement-exporter/placement_exporter/collector/timeline"
)

// decode turns a fetched page into one reading per model. server names the
// adapter to use; empty means detect it from the page.
func decode(body []byte, contentType, server, model string) (string, map[string]timeline.Reading, error) {
	page, err := ParsePage(body, contentType)
	if err != nil {
		return "", nil, err
	}
	var a Adapter
	if server != "" {
		var ok bool
		if a, ok = AdapterFor(server); !ok {
			return "", nil, pageError(ReasonUnknownServer, "unknown server %q (one of %s)", server, strings.Join(AdapterNames(), ", "))
		}
		if !a.Detect(page) {
			return "", nil, pageError(ReasonUnknownServer, "the page has no %s metrics (check the URL, or remove server: to detect the server)", server)
		}
	} else if a, err = Detect(page); err != nil {
		return "", nil, err
	}
	readings, err := a.Models(page, model)
	if err != nil {
		return a.Name(), nil, err
	}
	return a.Name(), readings, nil
}
