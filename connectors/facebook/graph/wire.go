package graph

import (
	"encoding/json"
	"strings"
	"time"
)

// List is one page of an edge (a node's posts, a hashtag's recent media),
// as every Graph API edge returns it: the items and a paging object. Items
// stay raw so one malformed item can be skipped without losing the page.
type List struct {
	Data   []json.RawMessage `json:"data"`
	Paging Paging            `json:"paging"`
}

// Paging is the Graph API's paging object. Next, when present, is the URL
// of the next page; without it this is the last page. Cursor-paginated
// edges also carry Cursors; time-paginated ones put until/since and a
// __paging_token in Next instead.
type Paging struct {
	Cursors struct {
		Before string `json:"before"`
		After  string `json:"after"`
	} `json:"cursors"`
	Previous string `json:"previous"`
	Next     string `json:"next"`
}

// ErrorBody is the body of every Graph API error response.
type ErrorBody struct {
	Error *struct {
		Message        string `json:"message"`
		Type           string `json:"type"`
		Code           int    `json:"code"`
		ErrorSubcode   int    `json:"error_subcode"`
		IsTransient    bool   `json:"is_transient"`
		ErrorUserTitle string `json:"error_user_title"`
		ErrorUserMsg   string `json:"error_user_msg"`
		FBTraceID      string `json:"fbtrace_id"`
	} `json:"error"`
}

// Usage is one entry of the rate-limit headers X-App-Usage, X-Page-Usage
// and X-Business-Use-Case-Usage: percentages of the quota used, and (for
// business use cases and pages) the minutes until calls are taken again.
type Usage struct {
	Type                        string  `json:"type"`
	CallCount                   float64 `json:"call_count"`
	TotalCPUTime                float64 `json:"total_cputime"`
	TotalTime                   float64 `json:"total_time"`
	EstimatedTimeToRegainAccess float64 `json:"estimated_time_to_regain_access"`
}

// TimeLayout is how the Graph API writes times ("2026-11-23T10:15:02+0000").
const TimeLayout = "2006-01-02T15:04:05-0700"

// ParseTime reads a Graph API time (created_time, timestamp), also
// accepting RFC 3339.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		if t2, err2 := time.Parse(time.RFC3339, s); err2 == nil {
			return t2.UTC(), nil
		}
		return time.Time{}, err
	}
	return t.UTC(), nil
}
