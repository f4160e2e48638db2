import FuzzSupport
import NIOCore
import UDPOverTCPWire

// The udp-over-tcp deframer (Framing.nextFrame) on any TCP byte stream. Input: a byte choosing
// the largest payload (IPv4's 65507, IPv6's 65527, or a small 1500 to reach the error often),
// a byte seeding how the stream is cut into reads, then the stream. Properties:
// - the frames taken out, framed again (Framing.appendFrame), are exactly the bytes consumed;
// - cutting the stream into reads of any sizes gives the same frames and the same outcome;
// - what is left is less than one whole frame; an error comes only from a header announcing
//   more than the largest payload, and it is the header at the point where reading stopped.

runFuzzer(fuzzFraming)

struct Outcome: Equatable {
    var frames: [[UInt8]]
    var consumed: Int
    var error: FrameError?
}

func fuzzFraming(_ input: [UInt8]) {
    guard input.count >= 2 else { return }
    let maximum = [Framing.maximumIPv4Payload, Framing.maximumIPv6Payload, 1500][Int(input[0]) % 3]
    let stream = Array(input.dropFirst(2))
    let whole = deframe([stream], maximum: maximum)

    var reframed = ByteBuffer()
    for frame in whole.frames { Framing.appendFrame(ByteBuffer(bytes: frame), to: &reframed) }
    require(Array(reframed.readableBytesView) == Array(stream.prefix(whole.consumed)), "frames do not re-frame to the bytes consumed")

    let rest = stream.dropFirst(whole.consumed)
    if let error = whole.error {
        require(rest.count >= 2, "error \(error) without a whole header left")
        let announced = Int(rest[rest.startIndex]) << 8 | Int(rest[rest.startIndex + 1])
        require(error == .tooLong(length: announced, maximum: maximum) && announced > maximum, "wrong error \(error)")
    } else if rest.count >= 2 {
        let announced = Int(rest[rest.startIndex]) << 8 | Int(rest[rest.startIndex + 1])
        require(rest.count < 2 + announced, "a whole frame of \(announced) bytes was left in the buffer")
    }

    var generator = SplitMix(seed: UInt64(input[1]))
    var reads: [[UInt8]] = []
    var index = 0
    while index < stream.count {
        let size = Int(generator.next() % 9) == 0 ? Int(generator.next() % 4096) : Int(generator.next() % 8)
        let end = min(stream.count, index + max(size, 1))
        reads.append(Array(stream[index..<end]))
        index = end
    }
    require(deframe(reads, maximum: maximum) == whole, "cutting the stream into \(reads.count) reads changes the frames")
}

/// Reads as a ByteToMessageDecoder sees them: each read appended, then every complete frame taken.
func deframe(_ reads: [[UInt8]], maximum: Int) -> Outcome {
    var buffer = ByteBuffer()
    var outcome = Outcome(frames: [], consumed: 0)
    for read in reads {
        buffer.writeBytes(read)
        while true {
            let before = buffer.readerIndex
            do {
                guard let frame = try Framing.nextFrame(from: &buffer, maximumPayload: maximum) else {
                    require(buffer.readerIndex == before, "nextFrame moved the reader without a frame")
                    break
                }
                outcome.frames.append(Array(frame.readableBytesView))
                outcome.consumed += buffer.readerIndex - before
            } catch {
                require(buffer.readerIndex == before, "nextFrame moved the reader before its error")
                outcome.error = error
                return outcome
            }
        }
    }
    return outcome
}

/// A small seeded generator (SplitMix64), so one input always cuts the stream the same way.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
