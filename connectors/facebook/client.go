package facebook

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chorus-wall/chorus/connectors/facebook/graph"
)

// The fields asked of each edge. Reactions and comments come as counts
// only (.summary(total_count).limit(0)).
const (
	postFields = "id,message,message_tags,story,created_time,permalink_url,parent_id,from{id,name,picture}," +
		"attachments{media_type,type,url,media{image{src,width,height}},description,title,subattachments}," +
		"shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
	commentFields = "id,message,message_tags,created_time,permalink_url,from{id,name,picture}," +
		"attachment{media_type,type,url,media{image{src,width,height}},title},like_count,comment_count,parent{id}"
)

// Paging limits of one poll.
const (
	pageSize = 100
	// firstPageSize is what a query's very first poll takes: the newest
	// posts only, not the page's whole history.
	firstPageSize = 25
	// maxPages bounds one query's pages per poll (2000 posts).
	maxPages = 20
	// maxCommentPages bounds one post's comment pages per poll.
	maxCommentPages = 5
)

// client fetches a page's edges and a post's comments.
type client struct {
	graph   *graph.Client
	log     *slog.Logger
	skipped prometheus.Counter
}

// newPosts returns the posts of page's edge ("posts" or "tagged") that cur
// has not seen, newest first. With a cursor it asks since one second
// before the cursor's time (so the boundary second comes back however the
// API bounds since) and pages until it meets a post older than the
// cursor's second; without one it takes the first page of the newest
// posts only.
func (c *client) newPosts(ctx context.Context, page, edge string, cur graph.Cursor) ([]graph.Item[Post], error) {
	q := url.Values{"fields": {postFields}, "limit": {strconv.Itoa(pageSize)}}
	pages := maxPages
	if cur.IsZero() {
		q.Set("limit", strconv.Itoa(firstPageSize))
		pages = 1
	} else {
		q.Set("since", strconv.FormatInt(cur.Time-1, 10))
	}
	what := fmt.Sprintf("page %q %s", page, edge)
	unseen := graph.Unseen[Post]{Cursor: cur, Parse: ParsePost, ID: func(p Post) string { return p.ID }, Skip: func(err error) { c.skip(what, err) }}
	truncated, err := c.graph.Pages(ctx, "/"+url.PathEscape(page)+"/"+edge, q, what, pages, unseen.Visit)
	if err != nil {
		return nil, err
	}
	if truncated && !cur.IsZero() {
		c.log.Warn("facebook: more new posts than one poll reads; older ones are skipped", "query", what, "pages", maxPages)
	}
	return unseen.Items, nil
}

// newComments returns the comments (and replies to comments) on object
// that cur has not seen, newest first.
func (c *client) newComments(ctx context.Context, object string, cur graph.Cursor) ([]graph.Item[Comment], error) {
	q := url.Values{"fields": {commentFields}, "filter": {"stream"}, "order": {"reverse_chronological"}, "limit": {strconv.Itoa(pageSize)}}
	what := fmt.Sprintf("comments of post %q", object)
	unseen := graph.Unseen[Comment]{Cursor: cur, Parse: ParseComment, ID: func(cm Comment) string { return cm.ID }, Skip: func(err error) { c.skip(what, err) }}
	_, err := c.graph.Pages(ctx, "/"+url.PathEscape(object)+"/comments", q, what, maxCommentPages, unseen.Visit)
	return unseen.Items, err
}

func (c *client) skip(what string, err error) {
	c.skipped.Inc()
	c.log.Warn("facebook: skipped an item that could not be read", "query", what, "err", err)
}
