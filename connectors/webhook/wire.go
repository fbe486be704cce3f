package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/chorus-wall/chorus/bus"
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
	if string(body) == "null" {
		return nil, errors.New("the body is null: send one post object or an array of posts")
	}
	posts, err := decodePosts(body)
	if err != nil {
		return nil, err
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

// decodePosts decodes one post object or an array of posts. A body is
// read by the fast decoder that reads ingest messages (encoding/json's
// rules on json/v2's decoder, see bus.DecodePost), which allocates half
// as much; a body it refuses is decoded again by encoding/json, whose
// result stands and whose errors describeJSONError explains.
func decodePosts(body []byte) ([]post.Post, error) {
	if posts, err := bus.DecodePosts(body); err == nil {
		return posts, nil
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
		return nil, fmt.Errorf("malformed JSON: %s", describeJSONError(err, body))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("malformed JSON: unexpected data after the first JSON value")
	}
	return posts, nil
}

// describeJSONError says what is wrong with body in an integrator's words:
// where the syntax breaks, or which field holds what kind of value instead
// of what kind.
func describeJSONError(err error, body []byte) string {
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
		return fmt.Sprintf("field %s: expected %s, got %s", field, kindOf(typ.Type), typ.Value)
	}
	// encoding/json does not say which field a time came from.
	if where := badTime(body); where != "" {
		return where
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "body ends in the middle of a JSON value"
	}
	return err.Error()
}

// kindOf names what a Go type takes in JSON.
func kindOf(t reflect.Type) string {
	if t == reflect.TypeFor[time.Time]() {
		return "a time such as " + timeExample
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(kindOf(t.Elem()), "an "), "a ") + "s"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

const timeExample = "2026-11-23T10:00:00Z (RFC 3339)"

// badTime names the first time field of body that is not an RFC 3339 time
// string, with the post when there are several, or says "" when none is.
func badTime(body []byte) string {
	var list []map[string]json.RawMessage
	if body[0] == '[' {
		_ = json.Unmarshal(body, &list)
	} else {
		var one map[string]json.RawMessage
		_ = json.Unmarshal(body, &one)
		list = append(list, one)
	}
	for i, obj := range list {
		for _, key := range []string{"created_at", "fetched_at"} {
			raw, ok := obj[key]
			var t time.Time
			if !ok || t.UnmarshalJSON(raw) == nil {
				continue
			}
			where := "field " + key
			if len(list) > 1 {
				where = fmt.Sprintf("post %d: %s", i, where)
			}
			return fmt.Sprintf("%s: %s is not a time such as %s", where, raw, timeExample)
		}
	}
	return ""
}
