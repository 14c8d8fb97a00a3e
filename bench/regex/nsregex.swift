// Times one pattern on one input with NSRegularExpression (ICU), as kb used before issue 7.
// Usage: nsregex PATTERN_FILE INPUT_FILE
import Foundation

let args = CommandLine.arguments
guard args.count == 3, var pattern = try? String(contentsOfFile: args[1], encoding: .utf8),
      let input = try? String(contentsOfFile: args[2], encoding: .utf8) else {
    FileHandle.standardError.write(Data("usage: nsregex PATTERN_FILE INPUT_FILE\n".utf8))
    exit(2)
}
if pattern.hasSuffix("\n") { pattern.removeLast() }
do {
    let regex = try NSRegularExpression(pattern: pattern, options: [.caseInsensitive, .anchorsMatchLines])
    let start = Date()
    let found = regex.firstMatch(in: input, range: NSRange(input.startIndex..., in: input)) != nil
    print(String(format: "icu\t%.2f\t%@", Date().timeIntervalSince(start) * 1000, found ? "match" : "no match"))
} catch {
    print("icu\t0\trejected")
}
