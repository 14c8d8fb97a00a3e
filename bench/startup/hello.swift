// The start-up baseline for `kb classify`: a Foundation program that prints one line.
import Foundation

print(ProcessInfo.processInfo.arguments.count > 1 ? "421" : "hello")
