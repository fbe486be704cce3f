package curation

import "github.com/chorus-wall/chorus/post"

// DryRunReport says what a rule would have done to a stream's recent posts.
type DryRunReport struct {
	Rule    string `json:"rule"`
	Action  string `json:"action"`
	Checked int    `json:"checked"`
	Matched int    `json:"matched"`
	// Changed counts the matches whose status the rule would have changed
	// (e.g. approved posts it would reject).
	Changed int           `json:"changed"`
	Posts   []DryRunMatch `json:"posts"`
}

// DryRunMatch is one post the rule matched.
type DryRunMatch struct {
	PostID string `json:"post_id"`
	Text   string `json:"text"`
	Status string `json:"status"`
	Would  string `json:"would"`
}

// DryRun evaluates r against posts (newest first) without changing anything.
func DryRun(r *rule, posts []Recent) DryRunReport {
	rep := DryRunReport{Rule: r.Name, Action: r.Action, Checked: len(posts), Posts: []DryRunMatch{}}
	would := map[string]string{"approve": "approved", "pin": "approved", "feature": "approved", "reject": "rejected", "hold": "held"}
	for _, rp := range posts {
		p := rp.Post
		if !r.matches(&p, tokenize(p.Text), lowerAll(p.Hashtags), func() ExprEnv { return envOf(&p) }) {
			continue
		}
		rep.Matched++
		status, changes := would[r.Action]
		if changes && status != rp.Status {
			rep.Changed++
		}
		rep.Posts = append(rep.Posts, DryRunMatch{PostID: p.ID, Text: excerpt(p), Status: rp.Status, Would: r.Action})
	}
	return rep
}

func excerpt(p post.Post) string {
	r := []rune(p.Text)
	if len(r) > 140 {
		return string(r[:140]) + "…"
	}
	return string(r)
}
