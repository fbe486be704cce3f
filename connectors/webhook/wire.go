package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/chorus-wall/chorus/post"
)

// ParseBody decodes a call's body, one post object or an array of posts in
// the post JSON, and normalizes each (network defaulting to network, source
// set to source). Any bad post fails the whole call, naming the post.
func ParseBody(body []byte, network, source string, maxPosts int, now time.Time) ([]post.Post, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, errors.New("empty body: send one post object or an array of posts")
	}
	var posts []post.Post
	dec := json.NewDecoder(bytes.NewReader(body))
	var err error
	if body[0] == '[' {
		err = dec.Decode(&posts)
	} else {
		var p post.Post
		err = dec.Decode(&p)
		posts = []post.Post{p}
	}
	if err != nil {
		return nil, fmt.Errorf("malformed JSON: %s", describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("malformed JSON: unexpected data after the first JSON value")
	}
	if len(posts) == 0 {
		return nil, errors.New("no posts: the array is empty")
	}
	if len(posts) > maxPosts {
		return nil, fmt.Errorf("too many posts: %d in one call, at most %d", len(posts), maxPosts)
	}
	for i := range posts {
		posts[i].Source = source
		if err := posts[i].Normalize(network, now); err != nil {
			if len(posts) == 1 {
				return nil, err
			}
			return nil, fmt.Errorf("post %d: %w", i, err)
		}
	}
	return posts, nil
}

func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("%v (at byte %d)", syntax, syntax.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Sprintf("field %s: expected %s, got %s", field, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "body ends in the middle of a JSON value"
	}
	return err.Error()
}
