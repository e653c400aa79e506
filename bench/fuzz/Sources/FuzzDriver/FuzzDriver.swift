import Foundation

/// libFuzzer's entry point for programs that keep their own `main` (SwiftPM gives every
/// executable one), from libclang_rt.fuzzer, which `-sanitize=fuzzer` links.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// One fuzz input: the bytes libFuzzer made.
public typealias FuzzTarget = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// Runs libFuzzer with this process's arguments (`-max_total_time=20 corpus/`, a crash file, …).
public func runFuzzer(_ target: FuzzTarget) -> Never {
  var argc = CommandLine.argc
  var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
  exit(LLVMFuzzerRunDriver(&argc, &argv, target))
}

/// The input as text, as dasprov would read a file: invalid UTF-8 becomes U+FFFD.
public func text(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String {
  guard let data, size > 0 else { return "" }
  return String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
}
