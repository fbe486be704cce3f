// Package wirejson decodes what networks send so that an odd side field
// never sinks a post. Networks document one JSON type per field and now and
// then send another (a rule id as a number, a poll's duration as a number
// where a library expects a string, a count as a string). Unmarshal keeps
// the item and leaves only that field unread; ID, Caution and Strings take
// the shapes seen on the wire, and err on the safe side where a field
// guards what may be shown.
package wirejson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Unmarshal decodes data into v like json.Unmarshal, except that a value of
// the wrong type inside data (a number where a string was expected, ...)
// does not fail it: that value is skipped, everything else is decoded, and
// the first such value is returned as odd. err is set when data is not
// JSON, or is not the kind of value v is at all (a list for a struct).
func Unmarshal(data []byte, v any) (odd, err error) {
	err = json.Unmarshal(data, v)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("field %s: a JSON %s where %s was expected; left unread", te.Field, te.Value, te.Type), nil
	}
	return nil, err
}

// ID is an identifier sent as a JSON string or as a JSON number, whose
// digits are kept exactly (64-bit ids do not survive a float64). null, and
// any other value, leave it empty.
type ID string

// UnmarshalJSON accepts "123", 123 and null.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if json.Unmarshal(b, &s) == nil {
			*id = ID(strings.TrimSpace(s))
			return nil
		}
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		if _, err := strconv.ParseFloat(string(b), 64); err == nil {
			*id = ID(b)
			return nil
		}
	}
	*id = ""
	return nil
}

// Caution is a flag that warns about a post (sensitive, withheld): true,
// "true", or a non-zero number set it; false, "false", 0 and null clear it;
// any other value sets it, since a warning that cannot be read is heeded.
type Caution bool

// UnmarshalJSON reads the flag, erring on the side of caution.
func (c *Caution) UnmarshalJSON(b []byte) error {
	var v any
	if json.Unmarshal(b, &v) != nil {
		*c = true
		return nil
	}
	switch v := v.(type) {
	case nil:
		*c = false
	case bool:
		*c = Caution(v)
	case float64:
		*c = v != 0
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "false", "0", "":
			*c = false
		default:
			*c = true
		}
	default:
		*c = true
	}
	return nil
}

// Strings is a list of strings sent as a JSON array or as one
// comma-separated string ("DE, FR"). Array entries that are not strings
// are kept as their JSON text; any other value is kept whole as one entry,
// so a list that cannot be read is never empty.
type Strings []string

// UnmarshalJSON reads the list.
func (s *Strings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*s = nil
	switch {
	case string(b) == "null":
	case len(b) > 0 && b[0] == '"':
		var one string
		if json.Unmarshal(b, &one) != nil {
			*s = Strings{string(b)}
			return nil
		}
		for _, part := range strings.Split(one, ",") {
			if part = strings.TrimSpace(part); part != "" {
				*s = append(*s, part)
			}
		}
	case len(b) > 0 && b[0] == '[':
		var raw []json.RawMessage
		if json.Unmarshal(b, &raw) != nil {
			*s = Strings{string(b)}
			return nil
		}
		for _, r := range raw {
			var one string
			if json.Unmarshal(r, &one) != nil {
				one = string(bytes.TrimSpace(r))
			}
			if one = strings.TrimSpace(one); one != "" && one != "null" {
				*s = append(*s, one)
			}
		}
	default:
		*s = Strings{string(b)}
	}
	return nil
}
