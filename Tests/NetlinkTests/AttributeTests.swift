import Netlink
import NetlinkTestSupport
import SeededRandom
import Testing

/// A tree of attributes for round-trip tests.
private indirect enum Node: Equatable {
    case leaf(UInt16, [UInt8])
    case nest(UInt16, [Node])

    static func random(depth: Int, using generator: inout SeededGenerator) -> Node {
        let type = UInt16.random(in: 0...0x3fff, using: &generator)
        if depth > 0 && Bool.random(using: &generator) {
            let children = (0..<Int.random(in: 0...4, using: &generator)).map { _ in random(depth: depth - 1, using: &generator) }
            return .nest(type, children)
        }
        let payload = (0..<Int.random(in: 0...41, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return .leaf(type, payload)
    }

    func encode(_ encoder: inout AttributeEncoder) {
        switch self {
        case .leaf(let type, let payload): encoder.append(type, payload)
        case .nest(let type, let children): encoder.nested(type) { inner in children.forEach { $0.encode(&inner) } }
        }
    }

    static func decode(_ decoder: inout AttributeDecoder) -> [Node] {
        var nodes: [Node] = []
        while decoder.next() {
            if decoder.isNested {
                var children: [Node] = []
                let type = decoder.type
                decoder.nested { children = decode(&$0) }
                nodes.append(.nest(type, children))
            } else {
                nodes.append(.leaf(decoder.type, decoder.bytes()))
            }
        }
        return nodes
    }
}

@Suite struct AttributeTests {
    @Test func integersAndStringsRoundTrip() throws {
        var encoder = AttributeEncoder(header: [1, 2, 3])
        encoder.uint8(1, 0xab)
        encoder.uint16(2, 0xbeef)
        encoder.uint32(3, 0xdead_beef)
        encoder.uint64(4, 0x0123_4567_89ab_cdef)
        encoder.string(5, "wg0")
        encoder.flag(6)
        let bytes = try encoder.finish()
        // The 3-byte header is padded to 4; every attribute is padded to 4.
        #expect(bytes.count == 4 + 8 + 8 + 8 + 12 + 8 + 4)
        #expect(Array(bytes[4..<9]) == [5, 0, 1, 0, 0xab])

        var decoder = AttributeDecoder(bytes, from: 4)
        var seen: [UInt16] = []
        while decoder.next() {
            seen.append(decoder.type)
            switch decoder.type {
            case 1: #expect(decoder.uint8() == 0xab)
            case 2: #expect(decoder.uint16() == 0xbeef)
            case 3: #expect(decoder.uint32() == 0xdead_beef)
            case 4: #expect(decoder.uint64() == 0x0123_4567_89ab_cdef)
            case 5: #expect(decoder.string() == "wg0")
            case 6: #expect(decoder.payload.isEmpty)
            default: Issue.record("unexpected attribute \(decoder.type)")
            }
        }
        try decoder.finish()
        #expect(seen == [1, 2, 3, 4, 5, 6])
    }

    @Test func nestedAttributesAreMarked() throws {
        var encoder = AttributeEncoder()
        encoder.nested(8) { $0.uint32(1, 7) }
        encoder.nested(18, marked: false) { $0.string(1, "wireguard") }
        let bytes = try encoder.finish()
        #expect(Array(bytes[0..<4]) == [12, 0, 8, 0x80])
        #expect(Array(bytes[12..<16]) == [20, 0, 18, 0])
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomTreesRoundTrip(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<50 {
            let nodes = (0..<Int.random(in: 0...6, using: &generator)).map { _ in Node.random(depth: 3, using: &generator) }
            var encoder = AttributeEncoder()
            nodes.forEach { $0.encode(&encoder) }
            let bytes = try encoder.finish()
            #expect(bytes.count % 4 == 0)
            var decoder = AttributeDecoder(bytes)
            let decoded = Node.decode(&decoder)
            try decoder.finish()
            #expect(decoded == nodes)
        }
    }

    @Test func oversizedAttributeErrorSticks() {
        var encoder = AttributeEncoder()
        encoder.uint32(1, 1)
        encoder.append(2, [UInt8](repeating: 0, count: 65532))
        encoder.uint32(3, 3)
        #expect(encoder.count == 8)
        #expect(encoder.error?.reason == "attribute 2 has 65532 bytes, more than 65531")
        #expect(throws: NetlinkEncodeError.self) { try encoder.finish() }
    }

    @Test func rollbackDropsWhatDidNotFit() throws {
        var encoder = AttributeEncoder()
        let outer = encoder.beginNested(8)
        encoder.uint32(1, 1)
        let mark = encoder.count
        let inner = encoder.beginNested(0)
        encoder.uint32(2, 2)
        _ = inner
        encoder.rollback(to: mark)
        encoder.endNested(outer)
        #expect(try encoder.finish() == [12, 0, 8, 0x80, 8, 0, 1, 0, 1, 0, 0, 0])
    }

    /// Malformed input: the decoder stops at the first error and keeps it.
    @Test(arguments: [
        ([8, 0, 1, 0, 1, 0], "attribute 1 claims 8 bytes; 6 are left"),
        ([2, 0, 1, 0], "attribute 1 claims 2 bytes; 4 are left"),
        ([8, 0, 1, 0, 1, 0, 0, 0, 9, 9], "2 trailing bytes after the last attribute"),
    ] as [([UInt8], String)])
    func malformedAttributes(bytes: [UInt8], reason: String) {
        var decoder = AttributeDecoder(bytes)
        while decoder.next() {}
        let error = decoder.error
        #expect(error?.reason == reason)
        let more = decoder.next()
        #expect(!more)
        #expect(throws: NetlinkDecodeError(reason)) { try decoder.finish() }
    }

    @Test func wrongSizedValueErrorSticks() {
        var decoder = AttributeDecoder([6, 0, 3, 0, 1, 2, 0, 0, 8, 0, 4, 0, 9, 0, 0, 0])
        let first = decoder.next()
        #expect(first)
        let value = decoder.uint32()
        #expect(value == 0)
        let error = decoder.error
        #expect(error?.reason == "attribute 3 has 2 bytes, want 4")
        let more = decoder.next()
        #expect(!more)
    }

    @Test func nestedErrorReachesTheParent() {
        // A nest (type 8) holding a truncated attribute.
        var decoder = AttributeDecoder([12, 0, 8, 0x80, 9, 0, 1, 0, 1, 2, 3, 4])
        let first = decoder.next()
        #expect(first)
        decoder.nested { inner in while inner.next() {} }
        let error = decoder.error
        #expect(error?.reason == "in attribute 8: attribute 1 claims 9 bytes; 8 are left")
    }
}
