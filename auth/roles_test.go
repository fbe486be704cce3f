package auth

import (
	"errors"
	"slices"
	"testing"
)

func TestGrantAllows(t *testing.T) {
	for _, tc := range []struct {
		name   string
		grant  Grant
		need   Role
		stream string
		want   bool
	}{
		{"owner anything", Grant{Role: Owner}, Owner, "x", true},
		{"viewer reads everywhere", Grant{Role: Viewer}, Viewer, "x", true},
		{"viewer cannot moderate", Grant{Role: Viewer}, Moderator, "x", false},
		{"moderator moderates its stream", Grant{Role: Moderator, Streams: []string{"a"}}, Moderator, "a", true},
		{"moderator not another stream", Grant{Role: Moderator, Streams: []string{"a"}}, Moderator, "b", false},
		{"moderator reads its stream", Grant{Role: Moderator, Streams: []string{"a"}}, Viewer, "a", true},
		{"moderator cannot manage", Grant{Role: Moderator}, Manager, "a", false},
		{"manager manages", Grant{Role: Manager, Streams: []string{"a", "b"}}, Manager, "b", true},
		{"manager not owner", Grant{Role: Manager}, Owner, "", false},
		{"stream-less need with streams", Grant{Role: Viewer, Streams: []string{"a"}}, Viewer, "", true},
		{"no role", Grant{}, Viewer, "", false},
		{"unknown role", Grant{Role: "admin"}, Viewer, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.grant.Allows(tc.need, tc.stream); got != tc.want {
				t.Fatalf("%v.Allows(%s, %q) = %v", tc.grant, tc.need, tc.stream, got)
			}
		})
	}
}

func TestGrantNormalize(t *testing.T) {
	g, err := Grant{Role: Moderator, Streams: []string{"b", " a", "b"}}.Normalize()
	if err != nil || !slices.Equal(g.Streams, []string{"a", "b"}) {
		t.Fatalf("normalize: %v %v", g, err)
	}
	if g, _ := (Grant{Role: Viewer}).Normalize(); g.Streams == nil {
		t.Fatal("streams nil: JSON would say null")
	}
	for _, bad := range []Grant{
		{Role: "root"},
		{Role: Owner, Streams: []string{"a"}},
		{Role: Viewer, Streams: []string{"Main Stream"}},
		{Role: Viewer, Streams: []string{""}},
	} {
		if _, err := bad.Normalize(); !errors.Is(err, ErrBadInput) {
			t.Errorf("%+v accepted (%v)", bad, err)
		}
	}
	if _, err := ParseRole("Moderator"); err != nil {
		t.Errorf("ParseRole is case-sensitive: %v", err)
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"ana": true, "ana.silva": true, "ci-bot_2": true, "a": true,
		"": false, ".ana": false, "ana.": false, "ana..silva": false, "Ana": false,
		"ana@brand.example": false, "ana silva": false, "-ana": false, "ana/x": false,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": false,
	} {
		if err := CheckName("user", name); (err == nil) != ok {
			t.Errorf("CheckName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}
