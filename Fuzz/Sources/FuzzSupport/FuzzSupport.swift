#if canImport(Glibc)
import Glibc
#endif
import CFuzzerDriver
import WireGuardModel

/// Runs libFuzzer (`LLVMFuzzerRunDriver`) with this process's arguments, calling `test` with each
/// input, and exits with libFuzzer's status. A target's main.swift is one call:
/// `runFuzzer(testFunction)`; a trap in `test` (or `require`) is a crash libFuzzer saves.
public func runFuzzer(_ test: @escaping ([UInt8]) -> Void) -> Never {
    fuzzTest = test
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzerTestOneInput))
}

/// The target's test: libFuzzer's callback is a C function pointer and cannot capture it.
nonisolated(unsafe) private var fuzzTest: ([UInt8]) -> Void = { _ in }

/// libFuzzer's callback. It is also exported under the name libFuzzer's own `main` refers to:
/// that `main` is linked in (and then replaced by the target's) with -sanitize=fuzzer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzTest(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

/// Stops the run when a property does not hold: libFuzzer sees the trap as a crash and saves the
/// input. `message` says which property, with enough detail to start debugging.
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("property violated: \(message())", file: file, line: line) }
}

/// The first text in `message` that looks like a WireGuard key a person could have pasted and
/// that comes from `input`: 43 base64 characters (with or without the `=` that ends the
/// 44-character form) that decode as a non-zero key, mix upper- and lower-case letters, as
/// every key `wg genkey` prints does (the chance that a random key does not is about 1e-10),
/// and occur in `input` as they are. Nil when there is none.
///
/// Messages must never show such a run, whatever variable or line it came from. (Text that
/// only looks like a key after escaping, such as `\t` before capitals, did not come from the
/// input and is not a leak.)
public func keyLikeText(in message: String, from input: String) -> String? {
    let bytes = Array(message.utf8)
    var start = 0
    while start < bytes.count {
        guard isBase64(bytes[start]) else { start += 1; continue }
        var end = start
        while end < bytes.count, isBase64(bytes[end]) { end += 1 }
        if end - start >= 43 {
            for offset in start...(end - 43) {
                let window = Array(bytes[offset..<(offset + 43)])
                guard window.contains(where: isUpper), window.contains(where: isLower) else { continue }
                let candidate = String(decoding: window, as: UTF8.self) + "="
                if let key = WireGuardKey(base64: candidate), !key.isZero, input.contains(candidate.dropLast()) {
                    return candidate
                }
            }
        }
        start = end
    }
    return nil
}

private func isBase64(_ byte: UInt8) -> Bool {
    isUpper(byte) || isLower(byte) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2b || byte == 0x2f
}

private func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5a }
private func isLower(_ byte: UInt8) -> Bool { byte >= 0x61 && byte <= 0x7a }

/// A deterministic key for slot `index`, for filling in keys a configuration reads from files.
/// Its first byte (0xf7) and the index make keys of different slots differ.
public func placeholderKey(_ index: Int, tag: UInt8 = 0xf7) -> WireGuardKey {
    var bytes = [UInt8](repeating: 0x5a, count: WireGuardKey.byteCount)
    bytes[0] = tag
    withUnsafeBytes(of: UInt64(index).littleEndian) { bytes.replaceSubrange(1..<9, with: $0) }
    return WireGuardKey(bytes: bytes)!
}

/// Splits fuzz input into datagrams: each is a 2-byte little-endian length and that many bytes;
/// a length running past the end takes what is left. `Fuzz/make-corpus.py` writes this format.
public func lengthPrefixedChunks(_ bytes: ArraySlice<UInt8>) -> [[UInt8]] {
    var chunks: [[UInt8]] = []
    var index = bytes.startIndex
    while bytes.endIndex - index >= 2 {
        let length = Int(bytes[index]) | Int(bytes[index + 1]) << 8
        index += 2
        let end = min(index + length, bytes.endIndex)
        chunks.append(Array(bytes[index..<end]))
        index = end
    }
    return chunks
}
