package wordlist

import (
	"embed"
	"sort"
	"strings"
)

//go:generate go run ./internal/gen

//go:embed lists/*.txt
var lists embed.FS

// Profanity returns the built-in profanity and slur list for the given
// languages (ISO 639-1 codes; "fil" and "nb"/"nn" are read as "tl" and "no";
// a region or script such as "pt-BR" or "zh-Hant" is ignored), with no
// languages for all of them. Unknown languages add nothing. The lists are
// the LDNOOBW lists, reviewed for a social wall: see lists/SOURCE.md.
func Profanity(langs ...string) []string {
	if len(langs) == 0 {
		langs = Languages()
	}
	var out []string
	seen := map[string]bool{}
	for _, l := range langs {
		l = baseLang(l)
		if l == "" || seen[l] {
			continue
		}
		seen[l] = true
		b, err := lists.ReadFile("lists/" + l + ".txt")
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				out = append(out, line)
			}
		}
	}
	return out
}

// Languages returns the codes of the languages that have a built-in list,
// sorted.
func Languages() []string {
	ents, _ := lists.ReadDir("lists")
	var out []string
	for _, e := range ents {
		if name, ok := strings.CutSuffix(e.Name(), ".txt"); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func baseLang(l string) string {
	l = strings.ToLower(strings.TrimSpace(l))
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	switch l {
	case "fil":
		return "tl"
	case "nb", "nn":
		return "no"
	}
	if strings.ContainsAny(l, "./\\") {
		return ""
	}
	return l
}
