package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Decode decodes node into v strictly: every key must name a field of v, and
// errors name the key's full path (prefix.key) and its line. Environment
// references ${NAME} and ${NAME:-default} in scalar values are expanded
// before decoding; a reference to an unset variable without a default is an
// error naming the key. Durations must carry a unit ("30s", "5m"): a bare
// number is refused, since "15" could mean seconds or nanoseconds. Every
// error is reported, not only the first.
func Decode(node *yaml.Node, v any, prefix string) error {
	if node == nil {
		return nil
	}
	var errs []error
	lines := map[int]string{}
	walk(node, reflect.TypeOf(v), prefix, lines, &errs)
	// Decode even after errors: yaml reports every value of the wrong type,
	// and a key already reported is not reported twice.
	if err := node.Decode(v); err != nil {
		errs = appendNew(errs, unwrapJoin(relabel(err, lines))...)
	}
	return errors.Join(errs...)
}

var (
	durationType       = reflect.TypeOf(time.Duration(0))
	configDurationType = reflect.TypeOf(Duration(0))
	unmarshalType      = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	envRef             = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)
)

// walk checks node against type t, expands environment references in place,
// and records which key path each line holds so decode errors can name it.
func walk(node *yaml.Node, t reflect.Type, path string, lines map[int]string, errs *[]error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if node.Kind == yaml.DocumentNode {
		for _, c := range node.Content {
			walk(c, t, path, lines, errs)
		}
		return
	}
	if node.Kind == yaml.AliasNode {
		*errs = append(*errs, fmt.Errorf("%s (line %d): YAML aliases are not supported", label(path), node.Line))
		return
	}
	lines[node.Line] = path
	if t == nil {
		return
	}
	if (t == durationType || t == configDurationType) && node.Kind == yaml.ScalarNode {
		expand(node, path, errs)
		checkDuration(node, path, errs)
		return
	}
	if t != durationType && reflect.PointerTo(t).Implements(unmarshalType) {
		// The type decodes itself (and checks its own keys); expand its env refs.
		expandAll(node, path, errs)
		return
	}
	switch node.Kind {
	case yaml.ScalarNode:
		expand(node, path, errs)
		// yaml.v3 would quietly cut 0.5 to 0 in an integer field.
		if isInteger(t) && node.ShortTag() == "!!float" {
			*errs = append(*errs, fmt.Errorf("%s (line %d): %q is not a whole number", label(path), node.Line, node.Value))
			node.Value, node.Tag = "0", "!!int"
		}
	case yaml.SequenceNode:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			*errs = append(*errs, fmt.Errorf("%s (line %d): expected %s, got a list", label(path), node.Line, describe(t)))
			return
		}
		for i, c := range node.Content {
			walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), lines, errs)
		}
	case yaml.MappingNode:
		switch t.Kind() {
		case reflect.Map:
			for i := 0; i+1 < len(node.Content); i += 2 {
				walk(node.Content[i+1], t.Elem(), join(path, node.Content[i].Value), lines, errs)
			}
		case reflect.Struct:
			fields := yamlFields(t)
			for i := 0; i+1 < len(node.Content); i += 2 {
				key, val := node.Content[i], node.Content[i+1]
				ft, ok := fields[key.Value]
				if !ok {
					*errs = append(*errs, fmt.Errorf("%s (line %d): unknown key; known keys here: %s",
						label(join(path, key.Value)), key.Line, strings.Join(sortedKeys(fields), ", ")))
					continue
				}
				lines[key.Line] = join(path, key.Value)
				walk(val, ft, join(path, key.Value), lines, errs)
			}
		default:
			*errs = append(*errs, fmt.Errorf("%s (line %d): expected %s, got a mapping", label(path), node.Line, describe(t)))
		}
	}
}

// checkDuration refuses a duration without a unit or that does not parse,
// naming its key. The node is then set to zero so decoding goes on to
// report the file's other errors.
func checkDuration(node *yaml.Node, path string, errs *[]error) {
	if node.Tag == "!!null" {
		return
	}
	if _, err := parseDuration(node.Value); err != nil {
		*errs = append(*errs, fmt.Errorf("%s (line %d): %w", label(path), node.Line, err))
		node.Value = "0"
	}
	// yaml.v3 reads only strings into a time.Duration, so a plain 0 too.
	node.Tag, node.Style = "!!str", 0
}

func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

func expandAll(node *yaml.Node, path string, errs *[]error) {
	if node.Kind == yaml.ScalarNode {
		expand(node, path, errs)
	}
	for _, c := range node.Content {
		expandAll(c, path, errs)
	}
}

func expand(node *yaml.Node, path string, errs *[]error) {
	if node.Kind != yaml.ScalarNode || !strings.Contains(node.Value, "${") {
		return
	}
	node.Value = envRef.ReplaceAllStringFunc(node.Value, func(ref string) string {
		m := envRef.FindStringSubmatch(ref)
		if v, ok := os.LookupEnv(m[1]); ok && v != "" {
			return v
		}
		if m[2] != "" {
			return m[3]
		}
		*errs = append(*errs, fmt.Errorf("%s (line %d): environment variable %s is not set", label(path), node.Line, m[1]))
		return ""
	})
	// A value that came from the environment is a string, whatever it looks like.
	if node.Tag == "" || node.Tag == "!" {
		node.Tag = "!!str"
	}
	node.Style = 0
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				fields[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

var (
	lineRef       = regexp.MustCompile(`line (\d+): `)
	cannotDecode  = regexp.MustCompile("^cannot unmarshal !!\\w+ `(.*)` into (\\S+)$")
	expectedWords = map[string]string{
		"int": "a whole number", "int64": "a whole number", "int32": "a whole number", "uint": "a whole number",
		"uint64": "a whole number", "float64": "a number", "float32": "a number", "bool": "true or false",
		"string": "a single value",
	}
)

// plain says yaml's "cannot unmarshal !!str `many` into int" in the
// file's terms: "many" is not a whole number.
func plain(msg string) string {
	m := cannotDecode.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	want, ok := expectedWords[m[2]]
	if !ok {
		switch {
		case strings.HasPrefix(m[2], "[]"):
			want = "a list"
		case strings.HasPrefix(m[2], "map["):
			want = "a mapping"
		default:
			return msg
		}
	}
	return fmt.Sprintf("%q is not %s", m[1], want)
}

// relabel turns yaml.v3's "line 7: cannot unmarshal ..." into
// "server.addr (line 7): cannot unmarshal ...".
func relabel(err error, lines map[int]string) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var errs []error
	for _, msg := range te.Errors {
		m := lineRef.FindStringSubmatch(msg)
		if m == nil {
			errs = append(errs, errors.New(msg))
			continue
		}
		var line int
		fmt.Sscan(m[1], &line)
		rest := plain(strings.TrimPrefix(msg, m[0]))
		if p, ok := lines[line]; ok && p != "" {
			errs = append(errs, fmt.Errorf("%s (line %d): %s", p, line, rest))
		} else {
			errs = append(errs, fmt.Errorf("line %d: %s", line, rest))
		}
	}
	return errors.Join(errs...)
}

// keyOf is the key an error names: the text before " (line " or ": ".
func keyOf(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, " (line "); i >= 0 {
		msg = msg[:i]
	}
	if i := strings.Index(msg, ": "); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// appendNew appends the errors of more whose key is not, and is not under,
// a key some error in errs already names: one problem, one message.
func appendNew(errs []error, more ...error) []error {
	reported := make([]string, 0, len(errs))
	for _, e := range errs {
		reported = append(reported, keyOf(e))
	}
	for _, e := range more {
		if !covered(keyOf(e), reported) {
			errs = append(errs, e)
		}
	}
	return errs
}

func covered(key string, reported []string) bool {
	for _, r := range reported {
		if key == r || strings.HasPrefix(key, r+".") || strings.HasPrefix(key, r+"[") {
			return true
		}
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func label(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}

func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "a single value"
}

func sortedKeys(m map[string]reflect.Type) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
