package wordlist

import (
	"slices"
	"strings"
	"testing"
)

// extra are a stream's own blocked words, on top of the profanity lists.
var extra = []string{"idiot", "buy followers", "scam", "कुत्ता", "ポルノ", "spam link"}

func allWords() *Matcher {
	return New(append(Profanity(), extra...), Options{})
}

func fold(text string) string {
	var s scanner
	s.scan(text)
	return s.render()
}

func TestFindCatches(t *testing.T) {
	m := allWords()
	tests := []struct {
		name, text, want, found string
	}{
		// plain, English
		{name: "plain", text: "what the fuck is this", want: "fuck", found: "fuck"},
		{name: "punctuation around", text: "(shit!)", want: "shit", found: "shit"},
		{name: "slur", text: "you faggot", want: "faggot"},
		{name: "added inflection", text: "you wanker", want: "wanker"},
		// case
		{name: "upper case", text: "FUCK OFF", want: "fuck", found: "FUCK"},
		{name: "mixed case", text: "FuCk", want: "fuck"},
		{name: "German sharp s folds to ss", text: "SCHEISSE", want: "scheiße"},
		{name: "German sharp s in text", text: "so eine Scheiße", want: "scheiße"},
		// diacritics
		{name: "accent on Latin", text: "fück", want: "fuck"},
		{name: "combining accent", text: "fu\u0301ck", want: "fuck"},
		{name: "accent on list side", text: "nique ta mere", want: "nique ta mère"},
		{name: "Polish l with stroke", text: "gowno", want: "gówno"},
		{name: "Turkish dotless i", text: "AMCIK", want: "amcık"},
		{name: "Arabic harakat dropped", text: "شَرْمُوطَة", want: "شرموطة"},
		{name: "Arabic tatweel dropped", text: "شرمـــوطة", want: "شرموطة"},
		// leetspeak
		{name: "leet 1 as i", text: "sh1t", want: "shit", found: "sh1t"},
		{name: "leet 1 as l", text: "k1ll all", want: ""},
		{name: "leet dollar", text: "a$$hole", want: "asshole"},
		{name: "leet at sign", text: "@sshole", want: "asshole"},
		{name: "leet zero", text: "c0ck", want: "cock"},
		{name: "leet three and five", text: "5h!t", want: "shit"},
		{name: "leet pipe", text: "b|tch", want: "bitch"},
		{name: "leet in Spanish", text: "m1erd4", want: "mierda"},
		{name: "mention sigil", text: "@idiot hi", want: "idiot", found: "@idiot"},
		// stretched letters
		{name: "stretched", text: "fuuuuuck", want: "fuck", found: "fuuuuuck"},
		{name: "stretched end", text: "shiiiiit", want: "shit"},
		{name: "stretched double", text: "asssss", want: "ass"},
		{name: "stretched Spanish", text: "mieeeerda", want: "mierda"},
		{name: "stretched Cyrillic", text: "хуууууй", want: "хуй"},
		// invisible characters
		{name: "zero-width space", text: "fu\u200bck", want: "fuck", found: "fu\u200bck"},
		{name: "zero-width joiners", text: "f\u200cu\u200dc\u2060k", want: "fuck"},
		{name: "soft hyphen", text: "sh\u00adit", want: "shit"},
		{name: "byte order mark", text: "\ufeffbitch", want: "bitch"},
		{name: "bidi control", text: "cu\u202ent", want: "cunt"},
		// look-alikes
		{name: "Cyrillic es", text: "сunt", want: "cunt"},
		{name: "Cyrillic dze", text: "ѕhit", want: "shit"},
		{name: "Armenian u", text: "fսck", want: "fuck"},
		{name: "Greek iota", text: "bιtch", want: "bitch"},
		{name: "fullwidth", text: "ｓｈｉｔ", want: "shit"},
		{name: "mathematical bold", text: "𝐟𝐮𝐜𝐤", want: "fuck"},
		{name: "circled", text: "ⓕⓤⓒⓚ", want: "fuck"},
		{name: "small capitals", text: "ꜰᴜᴄᴋ", want: "fuck"},
		// spaced letters
		{name: "spaced", text: "f u c k", want: "fuck", found: "f u c k"},
		{name: "dotted", text: "s.h.i.t", want: "shit", found: "s.h.i.t"},
		{name: "dashed", text: "c-u-n-t", want: "cunt"},
		{name: "spaced inside a sentence", text: "what a f u c k up", want: "fuck", found: "f u c k"},
		{name: "spaced with leet", text: "s h 1 t", want: "shit"},
		// wildcards
		{name: "wildcard", text: "sh*t", want: "shit", found: "sh*t"},
		{name: "two wildcards", text: "f**k you", want: "fuck"},
		{name: "wildcard Italian", text: "c*zzo", want: "cazzo"},
		// handles and hashtags
		{name: "handle", text: "total_idiot_42", want: "idiot", found: "idiot"},
		{name: "handle with digits", text: "idiot1990", want: "idiot", found: "idiot"},
		{name: "camel-case hashtag", text: "#YouAreAnIdiot", want: "idiot", found: "Idiot"},
		{name: "camel-case phrase", text: "#BuyFollowers now", want: "buy followers", found: "BuyFollowers"},
		{name: "all caps hashtag", text: "#FUCKTHIS", want: ""},
		// phrases
		{name: "phrase", text: "Buy   Followers!", want: "buy followers", found: "Buy   Followers"},
		{name: "phrase over a line break", text: "buy\nfollowers", want: "buy followers"},
		{name: "Spanish phrase", text: "HIJO DE PUTA", want: "hijo de puta"},
		{name: "Portuguese phrase", text: "vai tomar no cu", want: "vai tomar no cu"},
		{name: "Italian phrase", text: "porca puttana!", want: "porca puttana"},
		// languages
		{name: "Spanish", text: "eres un gilipollas", want: "gilipollas"},
		{name: "French", text: "quel connard", want: "connard"},
		{name: "German", text: "du Arschloch", want: "arschloch"},
		{name: "Portuguese", text: "caralho!", want: "caralho"},
		{name: "Italian", text: "vaffanculo", want: "vaffanculo"},
		{name: "Dutch", text: "klootzak", want: "klootzak"},
		{name: "Polish", text: "kurwa mać", want: "kurwa"},
		{name: "Swedish", text: "knulla", want: "knulla"},
		{name: "Finnish", text: "vittu", want: "vittu"},
		{name: "Turkish", text: "siktir git", want: "siktir"},
		{name: "Russian", text: "ну ты и блядь", want: "блядь"},
		{name: "Russian upper case", text: "ХУЙ", want: "хуй"},
		{name: "Russian transliterated", text: "ty mudack", want: "mudack"},
		{name: "Arabic", text: "يا قحبة", want: "قحبة"},
		{name: "Persian", text: "کیر", want: "کیر"},
		{name: "Hindi romanized", text: "madarchod", want: "madarchod"},
		{name: "Hindi Devanagari", text: "वह कुत्ता है", want: "कुत्ता"},
		{name: "Devanagari with a joiner inside", text: "कु\u200dत्ता", want: "कुत्ता"},
		{name: "Korean", text: "씨발", want: "씨발"},
		{name: "Chinese inside a sentence", text: "你他妈的在干什么", want: "他妈的", found: "他妈的"},
		{name: "Chinese single character alone", text: "屌!", want: "屌"},
		{name: "Japanese katakana inside", text: "ファックユー", want: "ファック", found: "ファック"},
		{name: "Japanese halfwidth katakana", text: "ﾌｧｯｸ", want: "ファック"},
		{name: "Japanese hiragana", text: "おまんこ", want: "まんこ"},
		{name: "Thai", text: "ไอ้เหี้ย", want: "เหี้ย"},
		{name: "Latin next to CJK", text: "fuck你", want: "fuck"},
		{name: "emoji entry", text: "🖕🏽", want: "🖕"},
		{name: "mixed script post", text: "Great game! 素晴らしい試合 🎉 but the ref is a c*nt", want: "cunt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := m.Find(tt.text)
			if ok != (tt.want != "") || strings.ToLower(got.Word) != tt.want {
				t.Fatalf("Find(%q) = %+v, %v; want %q", tt.text, got, ok, tt.want)
			}
			if tt.found != "" && got.Found != tt.found {
				t.Errorf("Find(%q).Found = %q, want %q", tt.text, got.Found, tt.found)
			}
		})
	}
}

func TestFindIgnores(t *testing.T) {
	m := allWords()
	tests := []struct{ name, text string }{
		{name: "Scunthorpe", text: "Scunthorpe United won 2-1"},
		{name: "classic", text: "a classic match"},
		{name: "assassin", text: "Assassin's Creed"},
		{name: "cocktail", text: "cocktail hour"},
		{name: "Essex", text: "Essex and Sussex"},
		{name: "Dickens", text: "Charles Dickens"},
		{name: "therapist", text: "my therapist says hi"},
		{name: "grapes", text: "grapes and peaches"},
		{name: "more Scunthorpes", text: "Penistone, Cockburn, Shitake, Arsenal, analysis, bass, passion, Matsushita"},
		{name: "as is not ass", text: "as good as it gets"},
		{name: "double letters stay", text: "Pass the ball, boss"},
		{name: "Finnish vowel length", text: "kuusi maalia"},
		{name: "stadium words", text: "GOL! 100 fans, 1 goal, what a shot"},
		{name: "English got and am", text: "I am here and got tickets"},
		{name: "Spanish", text: "la computadora está en disputa, con el negro y el rojo"},
		{name: "Spanish ice cream", text: "un cono de helado"},
		{name: "Portuguese", text: "ele pede para comer, fica aqui"},
		{name: "French", text: "connaissance du fromage, cul-de-sac, chut!"},
		{name: "German", text: "Das ist nicht schlecht, bitte"},
		{name: "Swedish and Danish", text: "jag fick en fan, jeg fik det"},
		{name: "Romanian", text: "Cum ești? după meci"},
		{name: "Dutch", text: "mijn nicht en haar schatje"},
		{name: "Italian", text: "un cono gelato al molo"},
		{name: "Turkish", text: "Çok güzel bir maç"},
		{name: "Indonesian", text: "aku suka sepak bola"},
		{name: "Tagalog", text: "ang aso ko"},
		{name: "Russian", text: "Привет, как дела? Москва"},
		{name: "Arabic", text: "مرحبا بكم في الملعب"},
		{name: "Persian", text: "هیچ کس نیامد"},
		{name: "Hindi", text: "नमस्ते दोस्तों, कुत्ते"},
		{name: "Korean verb forms", text: "보지 마세요, 자지 마"},
		{name: "Chinese mother", text: "我妈妈的生日, 姑娘的, 可能性, 牛奶"},
		{name: "Japanese", text: "グローバルな、なめらかなエッチング"},
		{name: "Japanese band", text: "ポルノグラフィティ" /* matched: no Allow here */},
		{name: "Thai", text: "ห่างไกล แม่งาน"},
		{name: "numbers", text: "2026 13 100% 4k 3d 1337"},
		{name: "URL", text: "https://example.com/classic/assets?id=3"},
		{name: "emoji", text: "🎉🔥⚽👏🏽❤️"},
		{name: "self-censored", text: "s*** and ***"},
		{name: "empty", text: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := m.Find(tt.text)
			if tt.name == "Japanese band" {
				if !ok {
					t.Fatalf("Find(%q) found nothing, want ポルノ inside the band name (use Allow)", tt.text)
				}
				return
			}
			if ok {
				t.Fatalf("Find(%q) = %+v, want no match", tt.text, got)
			}
		})
	}
}

func TestAllow(t *testing.T) {
	m := New([]string{"dick", "cum", "ポルノ", "ass"}, Options{Allow: []string{"Dick Smith", "cum laude", "ポルノグラフィティ", "ASS"}})
	tests := []struct{ name, text, want string }{
		{name: "allowed phrase covers the word", text: "Dick Smith Electronics", want: ""},
		{name: "word outside the phrase", text: "Dick Smith is a dick", want: "dick"},
		{name: "Latin honours", text: "magna cum laude", want: ""},
		{name: "Latin word alone", text: "cum", want: "cum"},
		{name: "CJK substring covered", text: "ポルノグラフィティのライブ", want: ""},
		{name: "CJK substring alone", text: "ポルノ映画", want: "ポルノ"},
		{name: "allowed word never reported", text: "a$$", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := m.Find(tt.text)
			if ok != (tt.want != "") || got.Word != tt.want {
				t.Fatalf("Find(%q) = %+v, %v; want %q", tt.text, got, ok, tt.want)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	var nilM *Matcher
	tests := []struct {
		name  string
		m     *Matcher
		empty bool
	}{
		{name: "nil", m: nilM, empty: true},
		{name: "zero", m: &Matcher{}, empty: true},
		{name: "no words", m: New(nil, Options{}), empty: true},
		{name: "only punctuation", m: New([]string{"  ", "!!!", "*"}, Options{}), empty: true},
		{name: "a word", m: New([]string{"x"}, Options{}), empty: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Empty(); got != tt.empty {
				t.Fatalf("Empty() = %v, want %v", got, tt.empty)
			}
			if _, ok := tt.m.Find("x"); ok == tt.empty {
				t.Fatalf("Find(x) = %v on a matcher with Empty() = %v", ok, tt.empty)
			}
		})
	}
}

// TestEveryEntryFindsItself checks that each built-in entry survives folding:
// written as listed, in capitals and folded, it is found.
func TestEveryEntryFindsItself(t *testing.T) {
	for _, lang := range Languages() {
		t.Run(lang, func(t *testing.T) {
			m := New(Profanity(lang), Options{})
			for _, w := range Profanity(lang) {
				for _, text := range []string{w, "« " + strings.ToUpper(w) + " »", fold(w)} {
					if _, ok := m.Find(text); !ok {
						t.Errorf("%s entry %q not found in %q", lang, w, text)
					}
				}
			}
		})
	}
}

func TestProfanity(t *testing.T) {
	langs := Languages()
	for _, want := range []string{"ar", "de", "en", "es", "fr", "hi", "it", "ja", "ko", "nl", "pt", "ru", "th", "tr", "zh"} {
		if !slices.Contains(langs, want) {
			t.Errorf("Languages() = %v, missing %s", langs, want)
		}
	}
	tests := []struct {
		name     string
		langs    []string
		has      []string
		hasNot   []string
		wantNone bool
	}{
		{name: "English", langs: []string{"en"}, has: []string{"fuck", "nigger", "wanker"}, hasNot: []string{"butt", "sex", "xxx", "mierda"}},
		{name: "region ignored", langs: []string{"pt-BR"}, has: []string{"caralho"}, hasNot: []string{"comer", "cu"}},
		{name: "upper case code", langs: []string{"DE"}, has: []string{"arschloch"}, hasNot: []string{"fick"}},
		{name: "Filipino alias", langs: []string{"fil"}, has: []string{"putang ina"}},
		{name: "Norwegian Bokmål alias", langs: []string{"nb"}, has: []string{"faen"}, hasNot: []string{"fan"}},
		{name: "Quebec merged into French", langs: []string{"fr"}, has: []string{"tabarnak"}},
		{name: "several", langs: []string{"es", "it"}, has: []string{"mierda", "cazzo"}},
		{name: "unknown", langs: []string{"xx", "../en"}, wantNone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Profanity(tt.langs...)
			if tt.wantNone != (len(got) == 0) {
				t.Fatalf("Profanity(%v) has %d entries", tt.langs, len(got))
			}
			for _, w := range tt.has {
				if !slices.ContainsFunc(got, func(g string) bool { return strings.EqualFold(g, w) }) {
					t.Errorf("Profanity(%v) lacks %q", tt.langs, w)
				}
			}
			for _, w := range tt.hasNot {
				if slices.Contains(got, w) {
					t.Errorf("Profanity(%v) has %q", tt.langs, w)
				}
			}
		})
	}
	total := 0
	for _, l := range langs {
		total += len(Profanity(l))
	}
	if n := len(Profanity()); n != total {
		t.Errorf("Profanity() has %d entries, the languages add up to %d", n, total)
	}
}

func FuzzFind(f *testing.F) {
	for _, s := range []string{
		"what the fuck", "f.u.c.k", "sh*t", "#YouAreAnIdiot", "total_idiot_42", "fսck", "fu\u200bck",
		"ｆｕｃｋ", "你他妈的", "ﾌｧｯｸ", "شَرْمُوطَة", "कु\u200dत्ता", "aẞb", "HTMLParser", "@ss!", "a b c d e",
		"Scunthorpe", "🖕🏽 x", "magna cum laude", "ǅemal", "İstanbul", "ﷺ", "ᾈ", "x\u0301\u0301", "1 2 3",
		"\xff\xff\x00", "f\xffuck", strings.Repeat("1 ", 50),
	} {
		f.Add(s)
	}
	m := New(append(Profanity(), extra...), Options{Allow: []string{"cum laude", "Dick Smith", "ポルノグラフィティ"}})
	f.Fuzz(func(t *testing.T, text string) {
		got, ok := m.Find(text)
		if ok && !strings.Contains(text, got.Found) {
			t.Fatalf("Find(%q).Found = %q is not in the text", text, got.Found)
		}
		folded := fold(text)
		got2, ok2 := m.Find(folded)
		if ok != ok2 || got.Word != got2.Word {
			t.Fatalf("Find(%q) = %q, %v but Find(fold) = Find(%q) = %q, %v", text, got.Word, ok, folded, got2.Word, ok2)
		}
		if again := fold(folded); again != folded {
			t.Fatalf("fold is not stable: %q -> %q -> %q", text, folded, again)
		}
	})
}
