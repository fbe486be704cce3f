package enrich

// knownLanguage is a language Chorus can name and the script it is
// written in (see languages_gen.go).
type knownLanguage struct {
	code1, code3 string
	script       script
}

// scriptsOf lists the scripts a language is written in. Japanese is kana
// and Han; every other language has one script.
func scriptsOf(l knownLanguage) []script {
	if l.code1 == "ja" {
		return []script{scriptKana, scriptHan}
	}
	return []script{l.script}
}
