/// Makes text from servers, logs and pastes safe to show on a terminal.
///
/// Escape sequences in a log line could recolour or rewrite the user's terminal, and bidi
/// overrides could make a line read differently from what it contains; both become visible escapes.
public enum Sanitizer {
    public static func neutralize(_ text: String, keepNewlines: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A where keepNewlines:
                out.unicodeScalars.append(scalar)
            case 0x09:
                out.unicodeScalars.append(scalar)
            case 0x0D:
                out += keepNewlines ? "" : "\\r"
            case 0x00...0x1F, 0x7F:
                out += scalar.value == 0x0A ? "\\n" : "\\x" + hex2(scalar.value)
            case 0x80...0x9F:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            case _ where Self.isInvisibleControl(scalar.value):
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Format and separator characters that reorder or break what a terminal shows (bidi marks, embeddings,
    /// overrides and isolates, line and paragraph separators, the byte order mark).
    static func isInvisibleControl(_ value: UInt32) -> Bool {
        switch value {
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF: return true
        default: return false
        }
    }

    /// Escapes, as `\uXXXX`, what JSONEncoder leaves raw but a terminal would act on: DEL, C1 controls
    /// (U+009B is a CSI on some terminals) and bidi controls. JSONEncoder output has such scalars only
    /// inside strings, so the result decodes to the same values.
    public static func jsonSafe(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { $0.value == 0x7F || (0x80...0x9F).contains($0.value)
            || isInvisibleControl($0.value) }) else { return json }
        var out = ""
        out.reserveCapacity(json.utf8.count + 16)
        for scalar in json.unicodeScalars {
            let v = scalar.value
            if v == 0x7F || (0x80...0x9F).contains(v) || isInvisibleControl(v) {
                let digits = String(v, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func hex2(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }
}
