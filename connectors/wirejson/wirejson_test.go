package wirejson

import (
	"reflect"
	"strings"
	"testing"
)

func TestID(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`"1859000000000000001"`, "1859000000000000001"},
		{`1859000000000000001`, "1859000000000000001"}, // beyond float64's 53 bits: kept exactly
		{` 42 `, "42"},
		{`null`, ""},
		{`true`, ""},
		{`{"id":1}`, ""},
		{`[1]`, ""},
	} {
		var v struct {
			ID  ID     `json:"id"`
			Tag string `json:"tag"`
		}
		odd, err := Unmarshal([]byte(`{"id":`+tt.in+`,"tag":"kept"}`), &v)
		if err != nil || odd != nil || string(v.ID) != tt.want || v.Tag != "kept" {
			t.Errorf("%s: id %q tag %q, odd %v, err %v; want %q", tt.in, v.ID, v.Tag, odd, err, tt.want)
		}
	}
}

func TestCaution(t *testing.T) {
	for in, want := range map[string]Caution{
		`true`: true, `false`: false, `null`: false, `"true"`: true, `"False"`: false, `""`: false, `"0"`: false,
		`1`: true, `0`: false, `"yes"`: true, `{}`: true, `[]`: true,
	} {
		var v struct {
			C Caution `json:"c"`
		}
		if _, err := Unmarshal([]byte(`{"c":`+in+`}`), &v); err != nil || v.C != want {
			t.Errorf("%s: %v %v, want %v", in, v.C, err, want)
		}
	}
}

func TestStrings(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Strings
	}{
		{`["DE","FR"]`, Strings{"DE", "FR"}},
		{`"DE, FR"`, Strings{"DE", "FR"}},
		{`""`, nil},
		{`null`, nil},
		{`[]`, nil},
		{`["DE",7,null]`, Strings{"DE", "7"}},
		{`{"country":"DE"}`, Strings{`{"country":"DE"}`}},
		{`true`, Strings{"true"}},
	} {
		var v struct {
			S Strings `json:"s"`
		}
		if _, err := Unmarshal([]byte(`{"s":`+tt.in+`}`), &v); err != nil || !reflect.DeepEqual(v.S, tt.want) {
			t.Errorf("%s: %#v %v, want %#v", tt.in, v.S, err, tt.want)
		}
	}
}

func TestUnmarshalKeepsTheRest(t *testing.T) {
	type poll struct {
		DurationMinutes string `json:"duration_minutes"`
		EndDatetime     string `json:"end_datetime"`
	}
	var v struct {
		Text  string `json:"text"`
		Polls []poll `json:"polls"`
		Likes int    `json:"likes"`
		Lang  string `json:"lang"`
	}
	odd, err := Unmarshal([]byte(`{"text":"Which stage?","polls":[{"duration_minutes":1440,"end_datetime":"Tue Nov 24 10:00:00 +0000 2026"}],"likes":"12","lang":"en"}`), &v)
	if err != nil || v.Text != "Which stage?" || v.Lang != "en" || len(v.Polls) != 1 || v.Polls[0].EndDatetime == "" {
		t.Fatalf("%+v %v", v, err)
	}
	if odd == nil || !strings.Contains(odd.Error(), "polls.duration_minutes") {
		t.Fatalf("odd = %v", odd)
	}
	for _, bad := range []string{`{"text":`, `[1,2]`, `"text"`} {
		if _, err := Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
