import Testing
@testable import Engine

/// Tickets in German, French, Spanish, Portuguese, Italian, Russian, Chinese and Japanese.
@Suite("symptoms in other languages")
struct MultilingualCueTests {
    let extractor = SymptomExtractor()

    func facts(_ text: String) -> Facts {
        extractor.extract([InputText(name: "paste", text: text, kind: "text")], statements: Statements())
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let text: String
        let expected: Bool?
        var testDescription: String { text }
    }

    @Test(arguments: [
        Case(text: "Der Fehler 421 kommt manchmal, nicht bei jedem Aufruf", expected: true),
        Case(text: "Ab und zu bekommen wir eine 421", expected: true),
        Case(text: "Parfois le site répond 421", expected: true),
        Case(text: "De temps en temps, erreur 421", expected: true),
        Case(text: "A veces el servidor devuelve 421", expected: true),
        Case(text: "Às vezes o servidor responde 421", expected: true),
        Case(text: "O erro 421 aparece de vez em quando", expected: true),
        Case(text: "A volte il server risponde 421", expected: true),
        Case(text: "Иногда сервер отвечает 421", expected: true),
        Case(text: "сервер иногда отвечает 421", expected: true),
        Case(text: "有时候服务器返回 421", expected: true),
        Case(text: "時々 421 エラーが出ます", expected: true),
        Case(text: "Pas à chaque fois, mais souvent: 421", expected: true),
        Case(text: "不是每次都返回 421", expected: true),
        Case(text: "Der Server antwortet mit 421", expected: nil),
        Case(text: "Der Server antwortet jedes Mal mit 421", expected: nil),
    ])
    func intermittency(_ c: Case) {
        let f = facts(c.text)
        #expect(f.intermittent == c.expected, "\(f.intermittentEvidence)")
    }

    @Test(arguments: [
        "421 zu viele Verbindungen von Ihrer IP",
        "421 trop de connexions depuis votre adresse",
        "421 demasiadas conexiones desde su IP",
        "421 muitas conexões do seu IP",
        "421 troppe connessioni dal tuo IP",
        "421 Слишком много соединений с вашего IP",
        "421 连接数过多",
        "421 接続数が多すぎます",
    ])
    func connectionLimitWording(_ text: String) {
        let f = facts(text)
        #expect(f.protocolVerdict.evidence.contains { $0.detail?.contains("connection limit wording") == true },
                "\(f.protocolVerdict.evidence.map(\.detail))")
    }

    @Test func germanTicketWithSometimesAndTooManyConnections() {
        let f = facts("""
        Hallo, beim Versand über unseren Postfix-Server bekommen wir manchmal diese Meldung:
        "421 4.7.0 zu viele Verbindungen von Ihrer IP, bitte später erneut versuchen".
        """)
        #expect(f.intermittent == true)
        #expect(f.protocolVerdict.value == .smtp)
        #expect(f.protocolVerdict.evidence.contains { $0.text.lowercased() == "zu viele verbindungen" })
        #expect(f.protocolVerdict.evidence.contains { $0.text.lowercased() == "später erneut versuchen" })
    }
}
