package curation

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/chorus-wall/chorus/config"
)

// The config file declares a stream and the API amends it. At each start,
// Seed merges three versions of every declared stream:
//
//   - base: the file's previous declaration (stored at the last start),
//   - file: the file's declaration now,
//   - live: the stream as it runs, with every change made through the API.
//
// What the file changed since base is applied to live; everything else keeps
// its live value. Plain values (title, moderation, filters.sensitive, a
// rule's action) merge one by one. Lists of words, hashtags, authors,
// languages, origins and sources merge element by element, ignoring case:
// what the file added is added, what it removed is removed, and what was
// added or removed through the API stays so. Rules merge by name, each
// rule field by field; a rule added through the API keeps its place.
//
// When the file and the API changed the same value differently, the file
// wins: editing that key and restarting is the newer, deliberate act. The
// value set through the API is reported as a Conflict, so the start can
// name it in a warning.

// Conflict is a value changed both in the file and through the API; the
// file's value was taken and the API's dropped.
type Conflict struct {
	Key  string // "moderation", `rules["vip"].action`
	File string // the value taken from the file
	API  string // the value set through the API, now dropped
}

// mergeStream merges file's changes since base into live (see above).
func mergeStream(base, file, live config.Stream) (config.Stream, []Conflict) {
	m := &merger{}
	out := m.merge("", reflect.ValueOf(base), reflect.ValueOf(file), reflect.ValueOf(live)).Interface().(config.Stream)
	out.ID = live.ID
	return out, m.conflicts
}

type merger struct{ conflicts []Conflict }

func (m *merger) merge(path string, b, f, l reflect.Value) reflect.Value {
	t := l.Type()
	switch {
	case isWordList(t):
		return mergeWords(b, f, l)
	case isNamedList(t):
		return m.mergeNamed(path, b, f, l)
	case t.Kind() == reflect.Struct:
		out := reflect.New(t).Elem()
		for i, name := range fieldKeys(t) {
			if name == "" {
				continue
			}
			out.Field(i).Set(m.merge(joinKey(path, name), b.Field(i), f.Field(i), l.Field(i)))
		}
		return out
	}
	switch {
	case same(f, b): // the file left it alone: the live value stays
		return l
	case same(l, b) || same(l, f): // only the file changed it
		return f
	}
	m.conflicts = append(m.conflicts, Conflict{Key: path, File: showValue(f), API: showValue(l)})
	return f
}

// mergeWords keeps live's list, less what the file removed, plus what it added.
func mergeWords(b, f, l reflect.Value) reflect.Value {
	base, file, live := words(b), words(f), words(l)
	var out []string
	for _, w := range live {
		if !containsFold(base, w) || containsFold(file, w) {
			out = append(out, w)
		}
	}
	for _, w := range file {
		if !containsFold(base, w) && !containsFold(out, w) {
			out = append(out, w)
		}
	}
	return wordsValue(l.Type(), out)
}

// mergeNamed merges lists of named items (rules) by name, each item field
// by field.
func (m *merger) mergeNamed(path string, b, f, l reflect.Value) reflect.Value {
	base, file, live := byName(b), byName(f), byName(l)
	zero := reflect.Zero(l.Type().Elem())
	merged := map[string]reflect.Value{}
	for _, name := range unionNames(b, f, l) {
		key := fmt.Sprintf("%s[%s]", path, strconv.Quote(name))
		bv, inBase := base[name]
		fv, inFile := file[name]
		lv, inLive := live[name]
		switch {
		case inFile && inLive:
			if !inBase { // added on both sides
				bv = zero
			}
			merged[name] = m.merge(key, bv, fv, lv)
		case inFile && !inBase: // added by the file
			merged[name] = fv
		case inFile: // deleted through the API
			if !same(bv, fv) {
				m.conflicts = append(m.conflicts, Conflict{Key: key, File: "changed in the file", API: "deleted"})
				merged[name] = fv
			}
		case inLive && !inBase: // added through the API
			merged[name] = lv
		case inLive: // removed from the file
			if !same(bv, lv) {
				m.conflicts = append(m.conflicts, Conflict{Key: key, File: "removed from the file", API: "changed"})
			}
		}
	}
	order := mergeOrder(names(b), names(f), names(l), merged)
	out := reflect.MakeSlice(l.Type(), 0, len(order))
	for _, name := range order {
		out = reflect.Append(out, merged[name])
	}
	if out.Len() == 0 {
		return reflect.Zero(l.Type())
	}
	return out
}

// mergeOrder orders the merged items: as they run, unless the file
// reordered its own items, then as in the file. Items the other side added
// follow the item they followed there.
func mergeOrder(base, file, live []string, merged map[string]reflect.Value) []string {
	primary, secondary := live, file
	inBoth := func(list, other []string) []string {
		return slices.DeleteFunc(slices.Clone(list), func(n string) bool { return !slices.Contains(other, n) })
	}
	if !slices.Equal(inBoth(file, base), inBoth(base, file)) {
		primary, secondary = file, live
	}
	var order []string
	for _, n := range primary {
		if _, ok := merged[n]; ok {
			order = append(order, n)
		}
	}
	for i, n := range secondary {
		if _, ok := merged[n]; !ok || slices.Contains(order, n) {
			continue
		}
		at := 0
		for j := i - 1; j >= 0; j-- {
			if k := slices.Index(order, secondary[j]); k >= 0 {
				at = k + 1
				break
			}
		}
		order = slices.Insert(order, at, n)
	}
	return order
}

// diffStream describes how to differs from from, one entry per key:
// `title: "A" -> "B"`, `filters.blocked_authors: +webhook:troll42`,
// `rules["vip"]: added`.
func diffStream(from, to config.Stream) []string {
	var out []string
	diff("", reflect.ValueOf(from), reflect.ValueOf(to), &out)
	return out
}

func diff(path string, a, b reflect.Value, out *[]string) {
	t := a.Type()
	switch {
	case isWordList(t):
		x, y := words(a), words(b)
		var changes []string
		for _, w := range y {
			if !containsFold(x, w) {
				changes = append(changes, "+"+showWord(w))
			}
		}
		for _, w := range x {
			if !containsFold(y, w) {
				changes = append(changes, "-"+showWord(w))
			}
		}
		if len(changes) > 0 {
			*out = append(*out, path+": "+strings.Join(changes, " "))
		}
	case isNamedList(t):
		x, y := byName(a), byName(b)
		for _, n := range names(b) {
			if _, ok := x[n]; !ok {
				*out = append(*out, fmt.Sprintf("%s[%s]: added", path, strconv.Quote(n)))
			}
		}
		for _, n := range names(a) {
			yv, ok := y[n]
			if !ok {
				*out = append(*out, fmt.Sprintf("%s[%s]: removed", path, strconv.Quote(n)))
				continue
			}
			diff(fmt.Sprintf("%s[%s]", path, strconv.Quote(n)), x[n], yv, out)
		}
		inBoth := func(list []string, other map[string]reflect.Value) []string {
			return slices.DeleteFunc(list, func(n string) bool { _, ok := other[n]; return !ok })
		}
		if !slices.Equal(inBoth(names(a), y), inBoth(names(b), x)) {
			*out = append(*out, path+": reordered")
		}
	case t.Kind() == reflect.Struct:
		for i, name := range fieldKeys(t) {
			if name != "" {
				diff(joinKey(path, name), a.Field(i), b.Field(i), out)
			}
		}
	default:
		if !same(a, b) {
			*out = append(*out, fmt.Sprintf("%s: %s -> %s", path, showValue(a), showValue(b)))
		}
	}
}

// fieldKeys are the config keys of struct type t's fields, "" for fields
// that do not merge (unexported ones and the stream's id).
func fieldKeys(t reflect.Type) []string {
	keys := make([]string, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name != "" && name != "-" && !(t == streamType && name == "id") {
			keys[i] = name
		}
	}
	return keys
}

var streamType = reflect.TypeOf(config.Stream{})

func isWordList(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String
}

// isNamedList reports lists of structs with a Name string field (rules).
func isNamedList(t reflect.Type) bool {
	if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Struct {
		return false
	}
	f, ok := t.Elem().FieldByName("Name")
	return ok && f.Type.Kind() == reflect.String
}

func words(v reflect.Value) []string {
	out := make([]string, v.Len())
	for i := range out {
		out[i] = v.Index(i).String()
	}
	return out
}

func wordsValue(t reflect.Type, ws []string) reflect.Value {
	if len(ws) == 0 {
		return reflect.Zero(t)
	}
	out := reflect.MakeSlice(t, len(ws), len(ws))
	for i, w := range ws {
		out.Index(i).SetString(w)
	}
	return out
}

func containsFold(list []string, w string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, w) })
}

func names(v reflect.Value) []string {
	out := make([]string, v.Len())
	for i := range out {
		out[i] = v.Index(i).FieldByName("Name").String()
	}
	return out
}

func byName(v reflect.Value) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	for i := range v.Len() {
		out[v.Index(i).FieldByName("Name").String()] = v.Index(i)
	}
	return out
}

func unionNames(lists ...reflect.Value) []string {
	var out []string
	for _, l := range lists {
		for _, n := range names(l) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// same compares two values of one type as diff does: lists of words as
// sets ignoring case, an empty list like a missing one.
func same(a, b reflect.Value) bool {
	if t := a.Type(); t.Kind() == reflect.Struct || isWordList(t) || isNamedList(t) {
		var d []string
		diff("", a, b, &d)
		return len(d) == 0
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

func showValue(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "unset"
		}
		v = v.Elem()
	}
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String()
	}
	if v.Kind() == reflect.String {
		return strconv.Quote(v.String())
	}
	return fmt.Sprint(v.Interface())
}

func showWord(w string) string {
	if w == "" || strings.ContainsAny(w, " \t\"';") || strconv.Quote(w) != `"`+w+`"` {
		return strconv.Quote(w)
	}
	return w
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
