import Engine
import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import Plugins

/// Not a timed test: a benchmark that bench/live/run.sh starts with KB_LIVE_BENCH=N. It starts the nginx → Apache
/// stack of the integration tests and measures, in one run, a full live diagnosis through kb's probes against the
/// equivalent sequence of openssl and curl commands an admin would type.
@Suite("live benchmark")
struct LiveBenchmark {
    static let runs = Int(ProcessInfo.processInfo.environment["KB_LIVE_BENCH"] ?? "") ?? 0
    static let out = ProcessInfo.processInfo.environment["KB_LIVE_BENCH_OUT"] ?? "bench/out/live"
    static let kb = ProcessInfo.processInfo.environment["KB_BINARY"] ?? ".build/debug/kb"

    /// The checks of a live diagnosis of the nginx → Apache 421, as (probe, parameters).
    static func checks(_ stack: WebStack) -> [(any Probe.Type, [String: ProbeValue])] {
        let origin = ProbeValue.string("127.0.0.1:\(stack.originPort)")
        return [
            (TLSHandshakeProbe.self, ["connect": origin, "name": .string("b.kb.test"), "matrix": .list(["a.kb.test", "b.kb.test"])]),
            (HTTPRequestProbe.self, ["connect": .string("127.0.0.1:\(stack.proxyPort)"), "host": .string("b.kb.test")]),
            (HTTPRequestProbe.self, ["connect": origin, "host": .string("b.kb.test"), "sni": .string("none")]),
            (HTTPRequestProbe.self, ["connect": origin, "host": .string("b.kb.test")]),
        ]
    }

    /// The same checks by hand: three handshakes (no SNI, a, b) and three requests.
    static func commands(_ stack: WebStack) -> String {
        let o = stack.originPort, p = stack.proxyPort
        return """
            set -e
            openssl s_client -connect 127.0.0.1:\(o) -noservername </dev/null >/dev/null 2>&1
            openssl s_client -connect 127.0.0.1:\(o) -servername a.kb.test </dev/null >/dev/null 2>&1
            openssl s_client -connect 127.0.0.1:\(o) -servername b.kb.test </dev/null >/dev/null 2>&1
            curl -sk --http2 --resolve b.kb.test:\(p):127.0.0.1 https://b.kb.test:\(p)/ -o /dev/null
            curl -sk --http2 -H 'Host: b.kb.test' https://127.0.0.1:\(o)/ -o /dev/null
            curl -sk --http2 --resolve b.kb.test:\(o):127.0.0.1 https://b.kb.test:\(o)/ -o /dev/null

            """
    }

    /// The same checks through the kb CLI, one process per probe (what a person can run today).
    static func kbCommands(_ stack: WebStack) -> String {
        let o = stack.originPort, p = stack.proxyPort
        return """
            set -e
            \(kb) probe tls.handshake --param connect=127.0.0.1:\(o) --param name=b.kb.test --param matrix=a.kb.test,b.kb.test >/dev/null
            \(kb) probe http.request --param connect=127.0.0.1:\(p) --param host=b.kb.test >/dev/null
            \(kb) probe http.request --param connect=127.0.0.1:\(o) --param host=b.kb.test --param sni=none >/dev/null
            \(kb) probe http.request --param connect=127.0.0.1:\(o) --param host=b.kb.test >/dev/null

            """
    }

    static func stats(_ samples: [Double]) -> String {
        let s = samples.sorted()
        let mean = s.reduce(0, +) / Double(s.count)
        return String(format: "mean %.1f ms, median %.1f ms, min %.1f ms, max %.1f ms (n=%d)",
                      mean * 1000, s[s.count / 2] * 1000, s.first! * 1000, s.last! * 1000, s.count)
    }

    @Test(.enabled(if: runs > 0, "set KB_LIVE_BENCH=N (bench/live/run.sh does)"))
    func liveDiagnosisAgainstCurlAndOpenSSL() async throws {
        let stack = try WebStack()
        defer { stack.remove() }
        try await stack.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let context = ProbeContext(facts: Facts(), files: ConfinedFiles(roots: []), services: [eventLoopGroupServiceKey: group],
                                   contacts: .loopback)
        let checks = Self.checks(stack)
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

        // One warm-up round, which must show the 421 it is about.
        let warm = await HTTPRequestProbe().run(checks[1].1, context: context)
        #expect(warm.observations["status"]?.description == "421")

        var concurrent: [Double] = []
        var sequential: [Double] = []
        for _ in 0..<Self.runs {
            let start = clock.now
            await withTaskGroup(of: Void.self) { tasks in
                for (probe, parameters) in checks {
                    tasks.addTask { _ = await probe.init().run(parameters, context: context) }
                }
            }
            concurrent.append(seconds(clock.now - start))
            let start2 = clock.now
            for (probe, parameters) in checks { _ = await probe.init().run(parameters, context: context) }
            sequential.append(seconds(clock.now - start2))
        }
        try? await group.shutdownGracefully()

        try FileManager.default.createDirectory(atPath: Self.out, withIntermediateDirectories: true)
        let script = Self.out + "/commands.sh", kbScript = Self.out + "/kb-probes.sh"
        try Self.commands(stack).write(toFile: script, atomically: true, encoding: .utf8)
        try Self.kbCommands(stack).write(toFile: kbScript, atomically: true, encoding: .utf8)
        var byHand: [Double] = []
        for _ in 0..<Self.runs {
            let start = clock.now
            let (status, output) = try Harness.run("/bin/bash", [script], timeout: 60)
            #expect(status == 0, "\(output)")
            byHand.append(seconds(clock.now - start))
        }
        var summary = """
            live diagnosis of the nginx → Apache stack (4 checks: TLS SNI matrix of 3 handshakes, 3 requests), \(Self.runs) runs
            kb probes in-process, concurrent (as kb diagnose runs a wave): \(Self.stats(concurrent))
            kb probes in-process, one after another:                      \(Self.stats(sequential))
            openssl + curl, the same 6 connections one after another:     \(Self.stats(byHand))

            """
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/hyperfine"), FileManager.default.isExecutableFile(atPath: Self.kb) {
            let (_, output) = try Harness.run("/usr/bin/hyperfine", [
                "--warmup", "2", "--runs", String(Self.runs), "--style", "basic", "--export-markdown", Self.out + "/hyperfine.md",
                "-n", "openssl + curl (6 commands)", "bash \(script)",
                "-n", "kb probe CLI (4 processes)", "bash \(kbScript)",
                "-n", "kb diagnose --target (one process, all live checks)",
                "\(Self.kb) diagnose --format json --target https://b.kb.test:\(stack.proxyPort)/ --resolve b.kb.test:\(stack.proxyPort):127.0.0.1 --origin 127.0.0.1:\(stack.originPort) 'customers get 421 since the update' || test $? -le 2",
            ], timeout: 600)
            summary += "hyperfine:\n" + output
        }
        try summary.write(toFile: Self.out + "/summary.txt", atomically: true, encoding: .utf8)
        print(summary)
    }
}
