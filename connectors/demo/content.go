package demo

// The demo's phrase banks and cast. Everything here is invented: the people,
// the event ("Chorus Live" at the fictional Harbour Hall), the artists and the
// talks. Only normal posts draw on the language banks, and none of their text
// may contain a BlockedWords entry (a test checks), so that only the spam and
// offensive posts are caught by the demo stream's filter.

// BlockedWords are the words and phrases the demo stream blocks. Every
// offensive demo post carries at least one of them as a whole word, in its
// text or in its author's name or handle; some spam does too.
var BlockedWords = []string{
	"idiot",
	"stupid",
	"loser",
	"moron",
	"clown",
	"scam",
	"buy followers",
	"free crypto",
	"click here",
}

// MinFollowers is the demo stream's min_followers filter. Every spam and
// troll account has fewer followers and every other account more, so spam
// whose words pass the word list (a "collab?" DM bait, a wall of hashtags)
// never reaches the demo wall either (a test checks).
const MinFollowers = 100

// The networks the demo imitates.
var networks = []string{"x", "mastodon", "bluesky", "instagram", "youtube", "reddit"}

// role says what kind of account a cast member is.
type role int

const (
	roleFan      role = iota // ordinary attendees, speakers, fans
	roleOfficial             // the event, the venue, the artists
	roleSpam                 // spam accounts
	roleTroll                // accounts that post insults
)

// person is one invented account. Slug is its handle on most networks
// (lowercase ASCII, words joined by '_'); short is its Mastodon and Bluesky
// user name; key names its avatar and is its author id.
type person struct {
	key       string
	name      string
	initials  string
	slug      string
	short     string
	lang      string
	followers int64
	verified  bool
	role      role
	// rude marks a troll whose name or handle itself carries a blocked word.
	rude bool
}

// cast is everyone who posts on the demo wall.
var cast = []person{
	{key: "jose-alvarez", name: "José Álvarez", initials: "JÁ", slug: "jose_alvarez", short: "jose", lang: "es", followers: 4210},
	{key: "zoe-muller", name: "Zoë Müller", initials: "ZM", slug: "zoe_muller", short: "zoe", lang: "de", followers: 1877},
	{key: "leila-haddad", name: "ليلى حداد", initials: "ل", slug: "leila_haddad", short: "leila", lang: "ar", followers: 23890},
	{key: "noa-levi", name: "נועה לוי", initials: "נ", slug: "noa_levi", short: "noa", lang: "he", followers: 3120},
	{key: "kenji-tanaka", name: "田中 健二", initials: "健", slug: "kenji_tanaka", short: "kenji", lang: "ja", followers: 58200, verified: true},
	{key: "minji-park", name: "박민지", initials: "민", slug: "minji_park", short: "minji", lang: "ko", followers: 12400},
	{key: "wei-chen", name: "陈伟", initials: "陈", slug: "wei_chen", short: "wei", lang: "zh", followers: 8650},
	{key: "priya-sharma", name: "प्रिया शर्मा", initials: "प", slug: "priya_sharma", short: "priya", lang: "hi", followers: 31500},
	{key: "eleni-papadopoulou", name: "Ελένη Παπαδοπούλου", initials: "ΕΠ", slug: "eleni_papa", short: "eleni", lang: "el", followers: 2290},
	{key: "dmitri-volkov", name: "Дмитрий Волков", initials: "ДВ", slug: "dmitri_volkov", short: "dmitri", lang: "ru", followers: 6740},
	{key: "ana-silva", name: "Ana Silva", initials: "AS", slug: "ana_silva", short: "ana", lang: "pt", followers: 15300},
	{key: "francois-dubois", name: "François Dubois", initials: "FD", slug: "francois_dubois", short: "francois", lang: "fr", followers: 980},
	{key: "sam-okafor", name: "Sam Okafor", initials: "SO", slug: "sam_okafor", short: "sam", lang: "en", followers: 122000, verified: true},
	{key: "maya-patel", name: "Maya Patel", initials: "MP", slug: "maya_patel", short: "maya", lang: "en", followers: 7420},
	{key: "lucas-oliveira", name: "Lucas Oliveira", initials: "LO", slug: "lucas_oliveira", short: "lucas", lang: "pt", followers: 2630},
	{key: "ines-garcia", name: "Inés García", initials: "IG", slug: "ines_garcia", short: "ines", lang: "es", followers: 5110},
	{key: "bjorn-larsen", name: "Bjørn Larsen", initials: "BL", slug: "bjorn_larsen", short: "bjorn", lang: "en", followers: 1405},
	{key: "aoife-ni-mhurchu", name: "Aoife Ní Mhurchú", initials: "AN", slug: "aoife_nm", short: "aoife", lang: "en", followers: 3380},
	{key: "camille-leroy", name: "Camille Leroy", initials: "CL", slug: "camille_leroy", short: "camille", lang: "fr", followers: 9020},
	{key: "yusuf-demir", name: "Yusuf Demir", initials: "YD", slug: "yusuf_demir", short: "yusuf", lang: "de", followers: 4470},
	{key: "omar-khalil", name: "عمر خليل", initials: "ع", slug: "omar_khalil", short: "omar", lang: "ar", followers: 1960},
	{key: "yael-cohen", name: "יעל כהן", initials: "י", slug: "yael_cohen", short: "yael", lang: "he", followers: 8830},
	{key: "yuki-sato", name: "佐藤 ゆき", initials: "ゆ", slug: "yuki_sato", short: "yuki", lang: "ja", followers: 2750},
	{key: "seojun-kim", name: "김서준", initials: "서", slug: "seojun_kim", short: "seojun", lang: "ko", followers: 640},
	{key: "mei-lin", name: "林美", initials: "林", slug: "mei_lin", short: "mei", lang: "zh", followers: 17900},
	{key: "arjun-nair", name: "अर्जुन नायर", initials: "अ", slug: "arjun_nair", short: "arjun", lang: "hi", followers: 5290},
	{key: "nikos-georgiou", name: "Νίκος Γεωργίου", initials: "ΝΓ", slug: "nikos_georgiou", short: "nikos", lang: "el", followers: 1120},
	{key: "olga-ivanova", name: "Ольга Иванова", initials: "ОИ", slug: "olga_ivanova", short: "olga", lang: "ru", followers: 14600},
	{key: "chloe-martin", name: "Chloé Martin", initials: "CM", slug: "chloe_martin", short: "chloe", lang: "fr", followers: 3900},
	{key: "mateo-rossi", name: "Mateo Rossi", initials: "MR", slug: "mateo_rossi", short: "mateo", lang: "es", followers: 760},
	{key: "hana-novakova", name: "Hana Nováková", initials: "HN", slug: "hana_novakova", short: "hana", lang: "en", followers: 2210},
	{key: "lars-schmidt", name: "Lars Schmidt", initials: "LS", slug: "lars_schmidt", short: "lars", lang: "de", followers: 890},
	{key: "grace-mensah", name: "Grace Mensah", initials: "GM", slug: "grace_mensah", short: "grace", lang: "en", followers: 45100, verified: true},
	{key: "tomas-herrera", name: "Tomás Herrera", initials: "TH", slug: "tomas_herrera", short: "tomas", lang: "es", followers: 1340},
	{key: "joao-santos", name: "João Santos", initials: "JS", slug: "joao_santos", short: "joao", lang: "pt", followers: 6080},
	{key: "sofia-andersson", name: "Sofia Andersson", initials: "SA", slug: "sofia_andersson", short: "sofia", lang: "en", followers: 2890},

	{key: "chorus-live", name: "Chorus Live", initials: "CL", slug: "choruslive", short: "choruslive", lang: "en", followers: 288000, verified: true, role: roleOfficial},
	{key: "harbour-hall", name: "Harbour Hall", initials: "HH", slug: "harbourhall", short: "harbourhall", lang: "en", followers: 96400, verified: true, role: roleOfficial},
	{key: "dj-nova", name: "DJ Nova ✨", initials: "N", slug: "dj_nova", short: "djnova", lang: "en", followers: 1240000, verified: true, role: roleOfficial},
	{key: "velvet-echoes", name: "The Velvet Echoes", initials: "VE", slug: "velvet_echoes", short: "velvetechoes", lang: "en", followers: 431000, verified: true, role: roleOfficial},

	{key: "cheap-followers", name: "Cheap Followers ✅", initials: "$", slug: "cheap_followers_official", short: "cheap_followers", lang: "en", followers: 12, role: roleSpam},
	{key: "crypto-moon", name: "Crypto Moon 🚀🌕", initials: "₿", slug: "crypto_moon_gains", short: "crypto_moon", lang: "en", followers: 3, role: roleSpam},
	{key: "giveaway-central", name: "🎁 Giveaway Central 🎁", initials: "G", slug: "giveaway_central_win", short: "giveaway_central", lang: "en", followers: 41, role: roleSpam},
	{key: "promo-king", name: "💰 Promo King 💰", initials: "P", slug: "promo_king_777", short: "promo_king", lang: "en", followers: 7, role: roleSpam},

	{key: "total-idiot-42", name: "Grumpy Gus", initials: "GG", slug: "total_idiot_42", short: "total_idiot_42", lang: "en", followers: 19, role: roleTroll, rude: true},
	{key: "stupid-bot", name: "Stupid Bot 🤖", initials: "SB", slug: "robot_critic_9000", short: "robot_critic", lang: "en", followers: 4, role: roleTroll, rude: true},
	{key: "loser-lounge", name: "Lounge Lizard", initials: "LL", slug: "loser_lounge", short: "loser_lounge", lang: "en", followers: 33, role: roleTroll, rude: true},
	{key: "clown-patrol", name: "Clown Patrol 🤡", initials: "CP", slug: "honk_honk_99", short: "honk_honk_99", lang: "en", followers: 8, role: roleTroll, rude: true},
	{key: "angry-critic", name: "Angry Critic", initials: "AC", slug: "angry_critic_77", short: "angry_critic", lang: "en", followers: 27, role: roleTroll},
}

// mastodonInstances are the invented servers of the Mastodon accounts.
var mastodonInstances = []string{"social.example", "mastodon.example", "fosstodon.example", "toot.example", "chaos.example", "mstdn.example"}

// The fictional programme of Chorus Live.
var (
	artists = []string{"The Velvet Echoes", "DJ Nova", "Lumen Quartet", "Mariana & the Tides", "Kaito Sound System", "Orchestra of Small Lights"}
	stages  = []string{"Harbour Stage", "Lantern Room", "Main Stage", "Rooftop Stage"}
	talks   = []string{
		"Designing for Screens Nobody Watches",
		"Offline First, Online Always",
		"The Joy of Boring Technology",
		"Latency Is a Feature Request",
		"Accessible Walls for Loud Rooms",
		"Moderation at the Speed of Applause",
		"Unicode Is Hard and That's Okay",
		"Emoji, Explained (Mostly)",
	}
)

// topic is what a post talks about.
type topic int

const (
	topicTalks topic = iota
	topicMusic
	topicFood
	topicVenue
	topicFriends
	topicCount
)

// topicTags are English hashtags per topic.
var topicTags = [topicCount][]string{
	topicTalks:   {"TechTalks", "DemoConf", "LearnInPublic"},
	topicMusic:   {"LiveMusic", "Encore", "NowPlaying"},
	topicFood:    {"StreetFood", "FoodCourt", "CoffeeTime"},
	topicVenue:   {"HarbourHall", "Sunset", "GoldenHour"},
	topicFriends: {"Friends", "MeetUp", "Squad"},
}

// Emoji, deliberately including ZWJ sequences, skin tones and flags so that
// screens get to show the hard cases.
var (
	emojiGeneral = []string{"🎉", "✨", "🙌🏽", "👏🏿", "❤️", "🔥", "😍", "🥳", "💯", "🫶🏻", "👍🏾", "🤩"}
	emojiTopic   = [topicCount][]string{
		topicTalks:   {"🧠", "💡", "📝", "👩\u200d💻", "🧑🏾\u200d💻", "🎙️"},
		topicMusic:   {"🎶", "🎸", "🎤", "🥁", "🎺", "🧑\u200d🎤", "👩🏻\u200d🎤", "💃🏽", "🕺🏿"},
		topicFood:    {"🍜", "🌮", "🥟", "☕", "🍩", "🧑🏽\u200d🍳"},
		topicVenue:   {"🌅", "🌊", "🏟️", "🌇", "⛵"},
		topicFriends: {"👯\u200d♀️", "🫂", "👨\u200d👩\u200d👧\u200d👦", "🤝🏼", "📸", "🏳️\u200d🌈", "❤️\u200d🔥"},
	}
	emojiFlags = map[string][]string{
		"en": {"🇬🇧", "🇨🇦", "🇳🇬", "🇮🇪", "🇳🇴"},
		"es": {"🇪🇸", "🇲🇽", "🇦🇷"},
		"fr": {"🇫🇷", "🇧🇪"},
		"de": {"🇩🇪", "🇦🇹"},
		"pt": {"🇧🇷", "🇵🇹"},
		"ja": {"🇯🇵"},
		"ko": {"🇰🇷"},
		"hi": {"🇮🇳"},
		"el": {"🇬🇷"},
		"ar": {"🇲🇦", "🇯🇴"},
	}
)

// links are pages a post may point at, all under the reserved .example TLD.
var links = []struct{ url, title string }{
	{"https://chorus-live.example/schedule", "Schedule · Chorus Live"},
	{"https://chorus-live.example/live", "Watch the livestream · Chorus Live"},
	{"https://tickets.example/events/chorus-live", "Chorus Live tickets"},
	{"https://maps.example/place/harbour-hall", "Harbour Hall · Maps"},
	{"https://photos.example/albums/chorus-live-day-2", "Chorus Live, day 2"},
	{"https://blog.example/2026/notes-from-chorus-live", "My notes from Chorus Live"},
}

// bank is one language's phrases. Lines may hold the placeholders {artist},
// {stage} and {talk}.
type bank struct {
	lines     [topicCount][]string
	reactions []string // short answers, for replies and quotes
	warnings  []string // content warnings
	tags      []string // hashtags in the language, without '#'
}

// languages lists the banks in a fixed order (maps are never ranged over
// while generating, so generation stays deterministic).
var languages = []string{"en", "es", "fr", "de", "pt", "ja", "ko", "zh", "ar", "he", "hi", "el", "ru"}

var banks = map[string]*bank{
	"en": {
		lines: [topicCount][]string{
			topicTalks: {
				"Just walked out of \"{talk}\" and my brain is buzzing.",
				"Best talk so far: \"{talk}\". The live demo actually worked!",
				"Taking notes like it's finals week. \"{talk}\" is packed with ideas.",
				"The Q&A after \"{talk}\" ran twenty minutes over and nobody minded.",
			},
			topicMusic: {
				"{artist} on the {stage} right now and the whole room is singing along.",
				"The bass from {artist} is rattling my ribs in the best way.",
				"Encore! {artist} just played the new single live for the first time.",
			},
			topicFood: {
				"The dumpling stand by the {stage} deserves its own headline slot.",
				"Found the best tacos of my life in the food court. Don't tell anyone.",
				"The coffee queue is long but the oat flat white is worth it.",
			},
			topicVenue: {
				"Harbour Hall at sunset is unreal. Look at that light over the water.",
				"Whoever designed this venue understood acoustics. Every seat sounds great.",
				"The rooftop terrace is the quiet corner you need between sessions.",
			},
			topicFriends: {
				"Met three people from the forum I've talked to for years. Finally faces to names!",
				"Our whole crew made it this year. Group photo by the big sign at 6?",
				"Lost my friends, found new ones. Classic Chorus Live.",
			},
		},
		reactions: []string{"Same here!", "This is the way.", "So jealous right now.", "Wish I was there!", "Saving this for later.", "Couldn't agree more."},
		warnings:  []string{"flashing lights", "loud music video", "spoilers: tonight's setlist"},
		tags:      []string{"LiveMusic", "ChorusLive2026"},
	},
	"es": {
		lines: [topicCount][]string{
			topicTalks: {
				"Acabo de salir de \"{talk}\" y tengo la cabeza a mil.",
				"La mejor charla hasta ahora: \"{talk}\". ¡La demo en vivo funcionó!",
				"Tomando apuntes sin parar en \"{talk}\".",
			},
			topicMusic: {
				"{artist} en el {stage} y todo el público cantando. ¡Qué locura!",
				"¡Otra, otra! {artist} acaba de tocar su nuevo single por primera vez.",
				"El sonido en el {stage} es increíble esta noche.",
			},
			topicFood: {
				"Las empanadas del puesto junto al {stage} merecen un premio.",
				"Cola larguísima para el café, pero vale la pena.",
				"Churros con chocolate a medianoche. No necesito nada más.",
			},
			topicVenue: {
				"Harbour Hall al atardecer es otra cosa. Mirad esa luz sobre el agua.",
				"La terraza de arriba es el rincón tranquilo perfecto entre charlas.",
				"Qué bien pensado está este recinto, se oye genial desde cualquier sitio.",
			},
			topicFriends: {
				"¡Por fin conozco en persona a la gente del foro!",
				"Todo el grupo vino este año. ¿Foto junto al cartel grande a las 6?",
				"Perdí a mis amigos y encontré otros nuevos. Típico de Chorus Live.",
			},
		},
		reactions: []string{"¡Totalmente!", "¡Qué envidia!", "¡Ojalá estuviera allí!", "Jajaja, justo eso."},
		warnings:  []string{"luces intermitentes", "spoilers del setlist"},
		tags:      []string{"EnVivo", "MúsicaEnDirecto"},
	},
	"fr": {
		lines: [topicCount][]string{
			topicTalks: {
				"Je sors de « {talk} » et j'ai la tête pleine d'idées.",
				"Meilleure conf jusqu'ici : « {talk} ». La démo en direct a marché !",
				"Je prends des notes comme jamais pendant « {talk} ».",
			},
			topicMusic: {
				"{artist} sur la {stage} et toute la salle chante avec eux.",
				"Rappel ! {artist} vient de jouer son nouveau titre en live pour la première fois.",
				"Le son sur la {stage} est incroyable ce soir.",
			},
			topicFood: {
				"Les crêpes du stand près de la {stage} méritent une étoile.",
				"Longue file pour le café, mais ça vaut le coup.",
				"Pause fromage et baguette au soleil. La vie est belle.",
			},
			topicVenue: {
				"Harbour Hall au coucher du soleil, c'est magique. Regardez cette lumière sur l'eau.",
				"La terrasse sur le toit est le coin calme parfait entre deux sessions.",
				"L'acoustique de cette salle est parfaite, on entend tout de partout.",
			},
			topicFriends: {
				"Enfin rencontré en vrai les gens du forum !",
				"Toute la bande est là cette année. Photo de groupe devant le grand panneau à 18 h ?",
				"J'ai perdu mes amis, j'en ai trouvé d'autres. Classique.",
			},
		},
		reactions: []string{"Carrément !", "Trop jaloux !", "J'aurais aimé être là !", "Tellement vrai."},
		warnings:  []string{"lumières clignotantes", "spoilers : la setlist"},
		tags:      []string{"EnDirect", "ChorusLiveFR"},
	},
	"de": {
		lines: [topicCount][]string{
			topicTalks: {
				"Komme gerade aus „{talk}“ und mein Kopf raucht.",
				"Bester Vortrag bisher: „{talk}“. Die Live-Demo hat tatsächlich funktioniert!",
				"Schreibe mit wie im Studium. „{talk}“ steckt voller Ideen.",
			},
			topicMusic: {
				"{artist} auf der {stage} und der ganze Saal singt mit.",
				"Zugabe! {artist} hat gerade die neue Single zum ersten Mal live gespielt.",
				"Der Sound auf der {stage} ist heute Abend der Wahnsinn.",
			},
			topicFood: {
				"Die Brezeln am Stand neben der {stage} sind große Klasse.",
				"Lange Schlange am Kaffeestand, aber es lohnt sich.",
				"Currywurst um Mitternacht. Mehr brauche ich nicht.",
			},
			topicVenue: {
				"Harbour Hall im Sonnenuntergang ist unglaublich schön.",
				"Die Dachterrasse ist die perfekte ruhige Ecke zwischen den Sessions.",
				"Die Akustik hier ist großartig, man hört von überall alles.",
			},
			topicFriends: {
				"Endlich die Leute aus dem Forum persönlich getroffen!",
				"Die ganze Clique ist dieses Jahr dabei. Gruppenfoto um 18 Uhr am großen Schild?",
				"Freunde verloren, neue gefunden. Typisch Chorus Live.",
			},
		},
		reactions: []string{"Genau so!", "Bin so neidisch!", "Wäre gern dabei!", "Absolut."},
		warnings:  []string{"Stroboskoplicht", "Spoiler: die Setlist"},
		tags:      []string{"LiveMusik", "ChorusLiveDE"},
	},
	"pt": {
		lines: [topicCount][]string{
			topicTalks: {
				"Acabei de sair de \"{talk}\" e minha cabeça tá fervendo.",
				"Melhor palestra até agora: \"{talk}\". A demo ao vivo funcionou!",
				"Anotando tudo em \"{talk}\". Quanta ideia boa.",
			},
			topicMusic: {
				"{artist} no {stage} agora e a galera toda cantando junto!",
				"Bis! {artist} tocou o single novo ao vivo pela primeira vez.",
				"O som no {stage} hoje está absurdo.",
			},
			topicFood: {
				"O pão de queijo da barraca perto do {stage} merece um prêmio.",
				"Fila enorme pro café, mas vale cada minuto.",
				"Açaí depois do show. Perfeito.",
			},
			topicVenue: {
				"Harbour Hall no pôr do sol é surreal. Olha essa luz na água!",
				"O terraço lá em cima é o cantinho tranquilo entre as palestras.",
				"A acústica desse lugar é perfeita, dá pra ouvir bem de qualquer canto.",
			},
			topicFriends: {
				"Finalmente conheci pessoalmente o pessoal do fórum!",
				"A turma toda veio este ano. Foto em grupo na placa grande às 18h?",
				"Perdi meus amigos e achei novos. Clássico do Chorus Live.",
			},
		},
		reactions: []string{"Demais!", "Que inveja!", "Queria estar aí!", "Verdade total."},
		warnings:  []string{"luzes piscando", "spoiler do setlist"},
		tags:      []string{"AoVivo", "ChorusLiveBR"},
	},
	"ja": {
		lines: [topicCount][]string{
			topicTalks: {
				"「{talk}」のトークが終わったところ。頭がアイデアでいっぱい。",
				"今のところベストトークは「{talk}」。ライブデモがちゃんと動いた！",
				"「{talk}」、メモが追いつかない。",
			},
			topicMusic: {
				"{stage}で{artist}が演奏中、会場全体で大合唱！",
				"アンコール！{artist}が新曲を初めてライブで披露した。",
				"今夜の{stage}の音響は最高すぎる。",
			},
			topicFood: {
				"{stage}の横の屋台のたこ焼き、優勝。",
				"コーヒーの列は長いけど、並ぶ価値あり。",
				"夜中のラーメンが体にしみる。",
			},
			topicVenue: {
				"夕暮れのHarbour Hall、水面に光が映ってきれいすぎる。",
				"屋上テラスはセッションの合間の静かな場所にぴったり。",
				"この会場、どの席でも音がよく聞こえる。",
			},
			topicFriends: {
				"フォーラムで何年も話してた人たちにやっと会えた！",
				"今年は仲間全員集合。18時に大きな看板の前で集合写真撮ろう？",
				"友達とはぐれたけど、新しい友達ができた。",
			},
		},
		reactions: []string{"わかる！", "うらやましい！", "行きたかった〜", "それな。"},
		warnings:  []string{"点滅する光", "セトリのネタバレ"},
		tags:      []string{"コーラスライブ", "ライブ"},
	},
	"ko": {
		lines: [topicCount][]string{
			topicTalks: {
				"방금 \"{talk}\" 세션 끝났는데 머릿속이 아이디어로 가득해요.",
				"지금까지 최고의 발표는 \"{talk}\"! 라이브 데모가 진짜 됐어요.",
				"\"{talk}\" 듣는 중. 메모가 안 따라가요.",
			},
			topicMusic: {
				"{stage}에서 {artist} 공연 중인데 다 같이 떼창 중!",
				"앵콜! {artist}가 신곡을 처음으로 라이브로 불렀어요.",
				"오늘 밤 {stage} 사운드 미쳤다.",
			},
			topicFood: {
				"{stage} 옆 포장마차 떡볶이 진짜 맛있어요.",
				"커피 줄이 길지만 기다릴 만해요.",
				"자정에 먹는 라면이 최고.",
			},
			topicVenue: {
				"해 질 녘 Harbour Hall 너무 예뻐요. 물 위에 비친 빛 좀 보세요.",
				"옥상 테라스는 세션 사이에 쉬기 딱 좋은 곳.",
				"이 공연장은 어디서 들어도 소리가 좋아요.",
			},
			topicFriends: {
				"포럼에서 몇 년 동안 얘기하던 사람들을 드디어 만났어요!",
				"올해는 우리 멤버 전원 참석. 6시에 큰 간판 앞에서 단체 사진?",
				"친구들은 잃어버렸지만 새 친구를 사귀었어요.",
			},
		},
		reactions: []string{"완전 공감!", "부러워요!", "저도 가고 싶다!", "인정."},
		warnings:  []string{"깜빡이는 조명", "셋리스트 스포일러"},
		tags:      []string{"코러스라이브", "라이브"},
	},
	"zh": {
		lines: [topicCount][]string{
			topicTalks: {
				"刚听完「{talk}」，脑子里全是想法。",
				"目前最棒的演讲：「{talk}」。现场演示居然成功了！",
				"「{talk}」干货太多，笔记都记不过来。",
			},
			topicMusic: {
				"{artist}正在{stage}演出，全场大合唱！",
				"安可！{artist}第一次现场演唱了新单曲。",
				"今晚{stage}的音响效果太棒了。",
			},
			topicFood: {
				"{stage}旁边小摊的煎饼果子必须推荐。",
				"咖啡排队很长，但是值得。",
				"半夜来一碗热汤面，太满足了。",
			},
			topicVenue: {
				"日落时的Harbour Hall美极了，看水面上的光。",
				"屋顶露台是两场演讲之间休息的好地方。",
				"这个场馆的音响设计真好，坐哪儿都听得清楚。",
			},
			topicFriends: {
				"终于见到了论坛上聊了好几年的朋友们！",
				"今年大家都来了。六点在大招牌前合影？",
				"和朋友走散了，却认识了新朋友。",
			},
		},
		reactions: []string{"太同意了！", "好羡慕！", "好想去！", "说得对。"},
		warnings:  []string{"闪烁灯光", "歌单剧透"},
		tags:      []string{"合唱现场", "现场音乐"},
	},
	"ar": {
		lines: [topicCount][]string{
			topicTalks: {
				"خرجت للتو من محاضرة \"{talk}\" ورأسي مليء بالأفكار.",
				"أفضل محاضرة حتى الآن: \"{talk}\". العرض الحي نجح فعلاً!",
				"أكتب الملاحظات بلا توقف في \"{talk}\".",
			},
			topicMusic: {
				"{artist} على {stage} الآن والقاعة كلها تغني معهم!",
				"إعادة! {artist} عزفوا الأغنية الجديدة مباشرة لأول مرة.",
				"الصوت على {stage} الليلة رائع جداً.",
			},
			topicFood: {
				"الفلافل من الكشك بجانب {stage} تستحق جائزة.",
				"طابور القهوة طويل لكنه يستحق الانتظار.",
				"كنافة في منتصف الليل. لا أحتاج شيئاً آخر.",
			},
			topicVenue: {
				"Harbour Hall عند الغروب شيء لا يُصدق. انظروا إلى الضوء على الماء.",
				"الشرفة على السطح هي الركن الهادئ المثالي بين الجلسات.",
				"صوت القاعة ممتاز من أي مقعد.",
			},
			topicFriends: {
				"أخيراً قابلت أصدقاء المنتدى وجهاً لوجه!",
				"كل الشلة هنا هذا العام. صورة جماعية عند اللافتة الكبيرة الساعة السادسة؟",
				"أضعت أصدقائي ووجدت أصدقاء جدداً.",
			},
		},
		reactions: []string{"بالضبط!", "يا حظك!", "أتمنى لو كنت هناك!", "كلام صحيح."},
		warnings:  []string{"أضواء وامضة", "حرق لقائمة الأغاني"},
		tags:      []string{"كورس_لايف", "موسيقى_حية"},
	},
	"he": {
		lines: [topicCount][]string{
			topicTalks: {
				"יצאתי עכשיו מההרצאה \"{talk}\" והראש שלי מלא רעיונות.",
				"ההרצאה הכי טובה עד עכשיו: \"{talk}\". הדמו החי באמת עבד!",
				"רושמת הערות בלי הפסקה בהרצאה \"{talk}\".",
			},
			topicMusic: {
				"{artist} על {stage} עכשיו וכל האולם שר איתם!",
				"הדרן! {artist} ניגנו את הסינגל החדש בהופעה חיה בפעם הראשונה.",
				"הסאונד ב־{stage} הערב מטורף.",
			},
			topicFood: {
				"הפלאפל מהדוכן ליד {stage} שווה פרס.",
				"התור לקפה ארוך, אבל שווה את זה.",
				"שקשוקה בחצות. לא צריך יותר מזה.",
			},
			topicVenue: {
				"Harbour Hall בשקיעה זה משהו אחר. תראו את האור על המים.",
				"המרפסת על הגג היא הפינה השקטה המושלמת בין הסשנים.",
				"האקוסטיקה פה מעולה, שומעים טוב מכל מקום.",
			},
			topicFriends: {
				"סוף סוף פגשתי פנים אל פנים את החברים מהפורום!",
				"כל החבר׳ה הגיעו השנה. תמונה קבוצתית ליד השלט הגדול בשש?",
				"איבדתי את החברים ומצאתי חדשים.",
			},
		},
		reactions: []string{"בדיוק!", "איזו קנאה!", "הלוואי שהייתי שם!", "נכון מאוד."},
		warnings:  []string{"אורות מהבהבים", "ספוילר לרשימת השירים"},
		tags:      []string{"כורוס_לייב", "מוזיקה_חיה"},
	},
	"hi": {
		lines: [topicCount][]string{
			topicTalks: {
				"अभी \"{talk}\" से निकली हूँ, दिमाग़ में ढेर सारे आइडिया हैं।",
				"अब तक का सबसे अच्छा टॉक: \"{talk}\"। लाइव डेमो सच में चल गया!",
				"\"{talk}\" में लगातार नोट्स ले रहा हूँ।",
			},
			topicMusic: {
				"{stage} पर {artist} और पूरा हॉल साथ में गा रहा है!",
				"वन्स मोर! {artist} ने नया गाना पहली बार लाइव गाया।",
				"आज रात {stage} का साउंड कमाल का है।",
			},
			topicFood: {
				"{stage} के पास वाले स्टॉल के समोसे लाजवाब हैं।",
				"कॉफ़ी की लाइन लंबी है, पर इंतज़ार के लायक है।",
				"आधी रात को मसाला चाय। और क्या चाहिए।",
			},
			topicVenue: {
				"सूर्यास्त के समय Harbour Hall बहुत सुंदर लगता है। पानी पर वो रोशनी देखो।",
				"छत वाली टैरेस सेशन के बीच आराम के लिए सबसे अच्छी जगह है।",
				"इस हॉल में हर सीट से आवाज़ साफ़ सुनाई देती है।",
			},
			topicFriends: {
				"आख़िरकार फ़ोरम वाले दोस्तों से आमने-सामने मिल लिया!",
				"इस साल पूरी टोली आई है। छह बजे बड़े साइन के पास ग्रुप फ़ोटो?",
				"दोस्त खो गए, नए दोस्त मिल गए।",
			},
		},
		reactions: []string{"बिल्कुल!", "कितनी जलन हो रही है!", "काश मैं वहाँ होता!", "सही बात।"},
		warnings:  []string{"चमकती रोशनी", "सेटलिस्ट स्पॉइलर"},
		tags:      []string{"कोरस_लाइव", "लाइव_संगीत"},
	},
	"el": {
		lines: [topicCount][]string{
			topicTalks: {
				"Μόλις βγήκα από το «{talk}» και το μυαλό μου βράζει.",
				"Η καλύτερη ομιλία μέχρι τώρα: «{talk}». Το live demo δούλεψε!",
				"Κρατάω σημειώσεις ασταμάτητα στο «{talk}».",
			},
			topicMusic: {
				"{artist} στη {stage} τώρα και όλη η αίθουσα τραγουδάει μαζί!",
				"Μπιζ! {artist} έπαιξαν το νέο τους τραγούδι live για πρώτη φορά.",
				"Ο ήχος στη {stage} απόψε είναι απίστευτος.",
			},
			topicFood: {
				"Τα σουβλάκια από το περίπτερο δίπλα στη {stage} αξίζουν βραβείο.",
				"Μεγάλη ουρά για καφέ, αλλά αξίζει.",
				"Λουκουμάδες τα μεσάνυχτα. Δεν χρειάζομαι τίποτα άλλο.",
			},
			topicVenue: {
				"Το Harbour Hall στο ηλιοβασίλεμα είναι μαγικό. Κοιτάξτε το φως στο νερό.",
				"Η ταράτσα είναι η ήσυχη γωνιά ανάμεσα στις ομιλίες.",
				"Η ακουστική εδώ είναι τέλεια από κάθε θέση.",
			},
			topicFriends: {
				"Επιτέλους γνώρισα από κοντά την παρέα από το φόρουμ!",
				"Ήρθε όλη η παρέα φέτος. Ομαδική φωτογραφία στη μεγάλη πινακίδα στις 6;",
				"Έχασα τους φίλους μου, βρήκα καινούργιους.",
			},
		},
		reactions: []string{"Ακριβώς!", "Ζηλεύω!", "Μακάρι να ήμουν εκεί!", "Πολύ σωστό."},
		warnings:  []string{"φώτα που αναβοσβήνουν", "spoiler: η λίστα τραγουδιών"},
		tags:      []string{"ΧορωδίαLive", "ΖωντανήΜουσική"},
	},
	"ru": {
		lines: [topicCount][]string{
			topicTalks: {
				"Только что с доклада «{talk}», голова кипит от идей.",
				"Лучший доклад пока что: «{talk}». Живое демо реально сработало!",
				"Конспектирую без остановки на «{talk}».",
			},
			topicMusic: {
				"{artist} на {stage} прямо сейчас, и весь зал поёт вместе с ними!",
				"Бис! {artist} впервые сыграли новый сингл вживую.",
				"Звук на {stage} сегодня просто невероятный.",
			},
			topicFood: {
				"Пельмени в палатке у {stage} заслуживают награды.",
				"Очередь за кофе длинная, но оно того стоит.",
				"Блины в полночь. Больше ничего не нужно.",
			},
			topicVenue: {
				"Harbour Hall на закате — это что-то. Посмотрите на свет над водой.",
				"Терраса на крыше — идеальный тихий уголок между докладами.",
				"Акустика здесь отличная, слышно с любого места.",
			},
			topicFriends: {
				"Наконец-то встретились вживую с ребятами с форума!",
				"В этом году приехала вся компания. Общее фото у большой вывески в 18:00?",
				"Потерялись с друзьями, зато нашли новых.",
			},
		},
		reactions: []string{"Точно!", "Завидую!", "Хочу туда!", "Согласен на все сто."},
		warnings:  []string{"мигающий свет", "спойлер: сетлист"},
		tags:      []string{"ХорЛайв", "ЖиваяМузыка"},
	},
}

// Spam. Lines may hold {link}, replaced by a link with its span. blocked
// says whether the line carries a BlockedWords entry (a test checks).
var spamLines = []struct {
	lang, text, link string
	blocked          bool
}{
	{"en", "🔥 Buy followers now!!! cheap-followers.example 💰💰", "", true},
	{"en", "💸 FREE CRYPTO for the first 100 people who reply!!! DM me 🚀🚀🚀", "", true},
	{"en", "Want 10K followers by tonight? Click here 👉 {link} ✅✅", "https://cheap-followers.example/deal", true},
	{"en", "I made $5,000 this week from my phone 📱💰 Not a scam!!! Ask me how 👇", "", true},
	{"en", "🎁 GIVEAWAY 🎁 Follow + repost to win VIP passes!!! Limited time ⏰⏰⏰ {link}", "https://free-vip-passes.example/win", false},
	{"en", "Hey!! Love your content 😍 Collab? Send a DM to our main account 💌", "", false},
	{"es", "💰 ¡Gana dinero desde casa! Click here 👉 {link} 💰", "https://easy-money.example/es", true},
	{"pt", "🔥 Buy followers brasileiros reais!!! Entrega em 24h 💰", "", true},
}

// spamTags fill the posts that are nothing but hashtags.
var spamTags = []string{
	"follow", "f4f", "followforfollow", "like4like", "likeforlikes", "instagood", "giveaway", "win",
	"followback", "viral", "trending", "photooftheday", "explore", "fyp", "reels", "bitcoin", "money",
	"music", "love", "DemoConf",
}

// insults are offensive lines, each carrying a BlockedWords entry.
var insults = []struct{ lang, text string }{
	{"en", "Whoever booked {artist} is an IDIOT. Worst set of the weekend."},
	{"en", "What a stupid queue system. 40 minutes for a coffee?!"},
	{"en", "Only a total loser would pay for VIP at this thing lol"},
	{"en", "The speaker in \"{talk}\" is a clown. Walked out after five minutes."},
	{"en", "This whole event is a SCAM. Overpriced and overhyped."},
	{"en", "Idiot security guard wouldn't let me in with my own water bottle."},
	{"en", "Stupid, stupid, stupid. The bass drowned out the vocals all night."},
	{"en", "Imagine being a moron who queues two hours for a tote bag."},
	{"en", "Every {artist} fan is a LOSER, sorry not sorry."},
	{"de", "Was für ein Idiot am Mischpult. Man hört nur Bass."},
	{"fr", "Quel idiot, ce DJ. Il a coupé la meilleure chanson."},
}

// grumbles are rude but hold no blocked word; trolls whose name or handle
// carries one post them.
var grumbles = []string{
	"Nobody cares about this event lol",
	"Boring. Next.",
	"lol this lineup 🥱",
	"Wake me up when it's over.",
	"Overrated. Again.",
	"Who even goes to these things",
}
