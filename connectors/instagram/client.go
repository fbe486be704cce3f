package instagram

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/connectors/facebook/graph"
)

// mediaFields are the fields asked of hashtag media.
const mediaFields = "id,caption,media_type,media_url,permalink,timestamp,children{media_type,media_url,thumbnail_url},like_count,comments_count"

// Paging limits of one poll.
const (
	// pageSize is the most recent_media returns per page.
	pageSize = 50
	// maxPages bounds one hashtag's pages per poll (500 media).
	maxPages = 10
)

// client looks hashtags up and reads their recent media.
type client struct {
	graph   *graph.Client
	account string
	log     *slog.Logger
	skipped prometheus.Counter
}

// hashtagID looks tag up. Each lookup of a new tag counts against the
// account's 30 unique hashtags per 7 days, so callers cache the answer.
func (c *client) hashtagID(ctx context.Context, tag string) (string, error) {
	var res HashtagSearch
	what := fmt.Sprintf("hashtag %q", tag)
	q := url.Values{"user_id": {c.account}, "q": {tag}}
	if err := c.graph.Get(ctx, "/ig_hashtag_search", q, what, &res); err != nil {
		return "", err
	}
	if len(res.Data) == 0 || res.Data[0].ID == "" {
		return "", fmt.Errorf("instagram: %s: Instagram knows no such hashtag", what)
	}
	return res.Data[0].ID, nil
}

// newMedia returns the media of the hashtag that cur has not seen. With a
// cursor it pages until a page holds media older than the cursor's second
// (the edge lists the newest first); without one it takes the first page
// only.
func (c *client) newMedia(ctx context.Context, tag, id string, cur graph.Cursor) ([]graph.Item[Media], error) {
	q := url.Values{"user_id": {c.account}, "fields": {mediaFields}, "limit": {strconv.Itoa(pageSize)}}
	pages := maxPages
	if cur.IsZero() {
		pages = 1
	}
	what := fmt.Sprintf("hashtag %q", tag)
	unseen := graph.Unseen[Media]{Cursor: cur, Parse: ParseMedia, ID: func(m Media) string { return m.ID }, Skip: func(err error) { c.skip(what, err) }}
	truncated, err := c.graph.Pages(ctx, "/"+url.PathEscape(id)+"/recent_media", q, what, pages, unseen.Visit)
	if err != nil {
		return nil, err
	}
	if truncated && !cur.IsZero() {
		c.log.Warn("instagram: more new media than one poll reads; older ones are skipped", "query", what, "pages", maxPages)
	}
	return unseen.Items, nil
}

func (c *client) skip(what string, err error) {
	c.skipped.Inc()
	c.log.Warn("instagram: skipped an item that could not be read", "query", what, "err", err)
}
