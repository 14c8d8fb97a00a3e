/// Intermittency and connection-limit wording in German, French, Spanish, Portuguese, Italian, Russian,
/// Chinese and Japanese: tickets arrive in the customer's language. Plain phrase lists (no regular
/// expressions), matched like the English phrases. There is no "every time" list: a phrase cannot see the
/// "not" in front of it ("pas à chaque fois", "不是每次"), so those would argue both ways.
enum MultilingualCues {
    /// "Sometimes", "from time to time", "not always" and the like: the 421 comes and goes.
    static let intermittent: [String] = [
        // German
        "manchmal", "gelegentlich", "ab und zu", "hin und wieder", "zeitweise", "zeitweilig", "sporadisch",
        "nicht immer", "nicht jedes mal", "nicht bei jedem", "immer wieder mal", "unregelmäßig", "nicht reproduzierbar",
        // French
        "parfois", "de temps en temps", "de temps à autre", "quelquefois", "par intermittence", "intermittente",
        "aléatoirement", "de façon aléatoire", "sporadiquement", "pas toujours", "pas à chaque fois",
        // Spanish
        "a veces", "de vez en cuando", "algunas veces", "ocasionalmente", "intermitente", "intermitentemente",
        "aleatoriamente", "esporádicamente", "no siempre", "no todas las veces",
        // Portuguese
        "às vezes", "as vezes", "de vez em quando", "esporadicamente", "nem sempre",
        // Italian
        "a volte", "ogni tanto", "talvolta", "di tanto in tanto", "saltuariamente", "occasionalmente",
        "non sempre", "non ogni volta", "a intermittenza",
        // Russian
        "иногда", "периодически", "время от времени", "порой", "изредка", "не всегда", "не каждый раз", "нестабильно",
        // Chinese (有时, 偶尔 … are already patterns in the table)
        "有的时候", "间歇", "不稳定", "不是每次", "并非每次",
        // Japanese
        "時々", "ときどき", "時折", "たまに", "断続的", "間欠的", "不定期", "毎回ではない",
    ]

    /// "Too many connections" and connection caps, as mail and FTP servers and their users word them.
    static let connectionLimit: [String] = [
        "zu viele verbindungen", "zu viele gleichzeitige verbindungen", "zu vielen verbindungen", "verbindungslimit",
        "maximale anzahl an verbindungen", "maximale anzahl von verbindungen",
        "trop de connexions", "nombre maximal de connexions", "nombre maximum de connexions",
        "demasiadas conexiones", "límite de conexiones", "número máximo de conexiones",
        "muitas conexões", "conexões demais", "limite de conexões", "número máximo de conexões",
        "troppe connessioni", "limite di connessioni", "numero massimo di connessioni",
        "слишком много соединений", "слишком много подключений", "лимит соединений", "лимит подключений",
        "连接数过多", "连接过多", "太多连接", "超过最大连接数", "连接数已达上限",
        "接続数が多すぎ", "接続が多すぎ", "同時接続数", "接続数の上限",
    ]

    /// "Try again later", the usual tail of a 421 reply, as localised servers and clients word it.
    static let tryLater: [String] = [
        "später erneut versuchen", "später noch einmal", "versuchen sie es später",
        "réessayez plus tard", "réessayer plus tard",
        "inténtelo más tarde", "intente más tarde", "vuelva a intentarlo más tarde",
        "tente novamente mais tarde", "tente mais tarde",
        "riprova più tardi", "riprovare più tardi",
        "попробуйте позже", "повторите попытку позже",
        "请稍后再试", "请稍后重试", "稍后再试",
        "しばらくしてから", "後でもう一度",
    ]

    /// The phrase as written and, when it starts with a non-ASCII letter, capitalised: the text is
    /// lowercased for ASCII only, so "Иногда" at the start of a sentence needs its own form.
    static func forms(_ phrase: String) -> [String] {
        guard let first = phrase.first, !first.isASCII else { return [phrase] }
        let capitalised = first.uppercased() + phrase.dropFirst()
        return capitalised == phrase ? [phrase] : [phrase, capitalised]
    }

    /// Only Latin-script phrases get word boundaries; the others are matched as written.
    static func isLatin(_ phrase: String) -> Bool {
        phrase.unicodeScalars.allSatisfy { $0.value < 0x0250 }
    }
}

extension SymptomCueBuilder {
    /// Adds each phrase (and its capitalised form) as its own cue, so evidence quotes the words found.
    mutating func phrases(
        _ list: [String], smtp: Double = 0, ftp: Double = 0, kind: String = "phrase", _ detail: String,
        corroborating: Bool = false, intermittent: Bool? = nil
    ) {
        for phrase in list {
            for form in MultilingualCues.forms(phrase) {
                exactPhrase(form, word: MultilingualCues.isLatin(phrase), smtp: smtp, ftp: ftp, kind: kind, detail,
                            corroborating: corroborating, intermittent: intermittent)
            }
        }
    }
}
