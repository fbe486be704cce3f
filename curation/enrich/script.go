package enrich

import lingua "github.com/pemistahl/lingua-go"

// scriptsOf lists the scripts a language is written in, as the detector
// knows it. Japanese is kana and Han; every other language has one script.
func scriptsOf(l lingua.Language) []script {
	switch l {
	case lingua.Japanese:
		return []script{scriptKana, scriptHan}
	case lingua.Chinese:
		return []script{scriptHan}
	case lingua.Korean:
		return []script{scriptHangul}
	case lingua.Thai:
		return []script{scriptThai}
	case lingua.Hebrew:
		return []script{scriptHebrew}
	case lingua.Greek:
		return []script{scriptGreek}
	case lingua.Armenian:
		return []script{scriptArmenian}
	case lingua.Georgian:
		return []script{scriptGeorgian}
	case lingua.Bengali:
		return []script{scriptBengali}
	case lingua.Gujarati:
		return []script{scriptGujarati}
	case lingua.Punjabi:
		return []script{scriptGurmukhi}
	case lingua.Tamil:
		return []script{scriptTamil}
	case lingua.Telugu:
		return []script{scriptTelugu}
	}
	for _, set := range []struct {
		s     script
		langs []lingua.Language
	}{
		{scriptLatin, lingua.AllLanguagesWithLatinScript()},
		{scriptCyrillic, lingua.AllLanguagesWithCyrillicScript()},
		{scriptArabic, lingua.AllLanguagesWithArabicScript()},
		{scriptDevanagari, lingua.AllLanguagesWithDevanagariScript()},
	} {
		for _, m := range set.langs {
			if m == l {
				return []script{set.s}
			}
		}
	}
	return nil
}
