import FuzzSupport
import UDPOverTCPWire

// ProxyProtocol.parse (PROXY protocol v1 and v2 headers, haproxy's send-proxy) on any bytes a
// client of tcp2udp could send first. Properties:
// - a complete header of `length` bytes never claims more bytes than it was given, and a v1
//   line is at most 107 bytes;
// - what follows the header does not change it: parsing just its `length` bytes gives it again;
// - every proper prefix of a complete header asks for more data (never an error, never a
//   different header), so a header arriving in small reads is read the same;
// - asking for more data happens only while a header could still complete (v1 under 107 bytes,
//   v2 under its 16-byte fixed part plus the length it announces).

runFuzzer(fuzzProxyHeader)

func fuzzProxyHeader(_ input: [UInt8]) {
    let result: ProxyParseResult
    do {
        result = try ProxyProtocol.parse(input)
    } catch {
        _ = error.description
        return
    }
    switch result {
    case .needMoreData:
        if input.starts(with: Array("PROXY ".utf8)) {
            require(input.count < ProxyProtocol.maximumV1Length, "v1 asks for more after \(input.count) bytes")
        } else if input.count >= 16 {
            let announced = Int(input[14]) << 8 | Int(input[15])
            require(input.count < 16 + announced, "v2 asks for more with \(input.count) of \(16 + announced) bytes")
        }
    case .header(let header, let length):
        require(length > 0 && length <= input.count, "header length \(length) of \(input.count) bytes")
        if header.version == .v1 { require(length <= ProxyProtocol.maximumV1Length, "v1 header of \(length) bytes") }
        let alone = try? ProxyProtocol.parse(input.prefix(length))
        require(alone == .header(header, length: length), "the header changes without the bytes after it")
        // Every proper prefix (all of them when short, else a spread of them) needs more data.
        let cuts = length <= 64 ? Array(0..<length) : Array(0..<16) + stride(from: 16, to: length, by: max(1, length / 48)).map { $0 } + [length - 1]
        for cut in cuts {
            let partial = try? ProxyProtocol.parse(input.prefix(cut))
            require(partial == .needMoreData, "a \(cut)-byte prefix of a \(length)-byte header gives \(String(describing: partial))")
        }
    }
}
