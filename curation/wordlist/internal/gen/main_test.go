package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestApply(t *testing.T) {
	rev := []*section{
		{lang: "en", reason: "everyday", words: []string{"Butt"}},
		{lang: "en", add: true, reason: "missing", words: []string{"wanker", "shit"}},
		{lang: "es", reason: "other language", words: []string{"con"}},
	}
	tests := []struct {
		name     string
		code     string
		upstream []string
		want     []string
		wantErr  string
	}{
		{name: "drop case-insensitively, add, dedupe", code: "en", upstream: []string{"shit", "butt", " Shit ", "cunt"},
			want: []string{"shit", "cunt", "wanker"}},
		{name: "dropping what upstream lacks fails", code: "es", upstream: []string{"puta"}, wantErr: `drops "con"`},
		{name: "untouched language", code: "fr", upstream: []string{"merde"}, want: []string{"merde"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := apply(tt.code, tt.upstream, rev)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("apply() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("apply() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestReadReview(t *testing.T) {
	secs, err := readReview("review.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) < 20 {
		t.Fatalf("review.txt has %d sections", len(secs))
	}
	for _, s := range secs {
		if s.reason == "" || len(s.words) == 0 {
			t.Errorf("section [%s] %q has no reason or no words", s.lang, s.reason)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(bad, []byte("word before a section\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readReview(bad); err == nil {
		t.Fatal("readReview accepted an entry before any section")
	}
}
