package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// Reasons a poll fails, the values of the reason label of
// placement_target_poll_errors_total. Page and adapter errors add their own.
const (
	// ReasonUnreachable: the connection failed.
	ReasonUnreachable = "unreachable"
	// ReasonTimeout: the poll did not finish within poll_timeout.
	ReasonTimeout = "timeout"
	// ReasonHTTPStatus: the server answered with a status other than 200.
	ReasonHTTPStatus = "http_status"
	// ReasonTooLarge: the page is larger than max_response_size.
	ReasonTooLarge = "too_large"
	// ReasonSkipped: too many polls were in flight to start this one in time.
	ReasonSkipped = "skipped"
)

// pollReasons are every reason a poll can fail for; each target's error
// counter starts at zero for all of them, so that rate() sees the first one.
var pollReasons = []string{
	ReasonUnreachable, ReasonTimeout, ReasonHTTPStatus, ReasonTooLarge, ReasonSkipped,
	ReasonInvalidPage, ReasonTruncated, ReasonNoMetrics, ReasonInvalidValue, ReasonUnknownServer,
}

// PollError is why a poll failed, with the reason it is counted under.
type PollError struct {
	Reason string
	Err    error
}

func (e *PollError) Error() string { return e.Err.Error() }

func (e *PollError) Unwrap() error { return e.Err }

// acceptHeader asks for the classic text format first; every inference
// server this exporter reads serves it.
const acceptHeader = "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1"

// fetch reads a target's page and returns the body and its content type.
func fetch(ctx context.Context, client *http.Client, url, userAgent string, limit int64) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", &PollError{ReasonUnreachable, err}
	}
	req.Header.Set("Accept", acceptHeader)
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", classify(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused, but never much.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, "", &PollError{ReasonHTTPStatus, fmt.Errorf("server answered %s (check the URL and that the server exposes metrics)", resp.Status)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, "", classify(ctx, err)
	}
	if int64(len(body)) > limit {
		return nil, "", &PollError{ReasonTooLarge, fmt.Errorf("page is larger than max_response_size (%d bytes); raise max_response_size if the page is legitimate", limit)}
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// classify maps a transport error to a reason.
func classify(ctx context.Context, err error) *PollError {
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &PollError{ReasonTimeout, errors.New("no complete answer within poll_timeout (the server is slow or hung; raise poll_timeout if it is just slow)")}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &PollError{ReasonUnreachable, errors.New("connection closed before the page was complete")}
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "dial") {
		msg = "cannot connect: " + msg[i+2:]
	}
	return &PollError{ReasonUnreachable, errors.New(msg)}
}
