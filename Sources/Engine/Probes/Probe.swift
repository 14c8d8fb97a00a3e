public protocol Probe: Sendable {}
