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
            case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            default:
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
