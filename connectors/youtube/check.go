package youtube

import (
	"context"
	"strings"

	"github.com/chorus-wall/chorus/connectors"
	"github.com/chorus-wall/chorus/post"
)

// YouTube sends no deletion notices for videos (a live chat sends its own,
// which the chat reader turns into takedowns), so the compliance sweep asks
// videos.list again, 50 videos a call (1 quota unit): a video it no longer
// returns, or whose upload was deleted, failed or rejected, is gone; one
// made private is private; one now age-restricted is sensitive. Live chat
// messages cannot be looked up one by one: they are counted as unverifiable.

const (
	// complianceRate is the default calls per minute: at 50 videos a call,
	// 500 videos a minute for 10 quota units, against the 10,000 a day.
	complianceRate = 10
	// complianceBatch is how many videos one videos.list call checks.
	complianceBatch = 50
)

var _ connectors.Checker = (*Source)(nil)

// Compliance returns the source's compliance settings.
func (s *Source) Compliance() connectors.Compliance { return s.settings.Compliance }

// Check asks videos.list about the videos among posts (one call).
func (s *Source) Check(ctx context.Context, posts []post.Post) ([]connectors.Standing, error) {
	out := make([]connectors.Standing, len(posts))
	var ids []string
	for i := range posts {
		out[i].ID = posts[i].ID
		id, ok := strings.CutPrefix(posts[i].ID, Network+":")
		if !ok || !videoID.MatchString(id) {
			out[i].Unknown = true // a chat message: its deletions come with the chat
			continue
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return out, nil
	}
	r, err := s.client.videos(ctx, "status,contentDetails", ids)
	if err != nil {
		return nil, err
	}
	found := make(map[string]*Video, len(r.Items))
	for i := range r.Items {
		found[r.Items[i].ID] = &r.Items[i]
	}
	for i := range posts {
		if out[i].Unknown {
			continue
		}
		v := found[strings.TrimPrefix(posts[i].ID, Network+":")]
		out[i].Gone = standing(&posts[i], v)
	}
	return out, nil
}

// standing says how a video stands now against the post shown: "" when
// it still stands as shown.
func standing(p *post.Post, v *Video) string {
	switch {
	case v == nil:
		return post.GoneDeleted
	case v.Status != nil && (v.Status.UploadStatus == "deleted" || v.Status.UploadStatus == "failed" || v.Status.UploadStatus == "rejected"):
		return post.GoneDeleted
	case v.Status != nil && v.Status.PrivacyStatus == "private":
		return post.GonePrivate
	case v.ContentDetails != nil && v.ContentDetails.ContentRating.YtRating == "ytAgeRestricted" && !p.Sensitive:
		return post.GoneSensitive
	}
	return ""
}
