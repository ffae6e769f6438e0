import Testing
@testable import Telemetry

/// The hand-encoded events, byte for byte against TensorBoard's own protobuf classes.
///
/// The expected bytes were produced once with tensorboard 2.21's `event_pb2`
/// and `text.summary_v2.text_pb` (the serialisation the reference code's
/// SummaryWriter performs), e.g.
/// `event_pb2.Event(wall_time=1.5, file_version="brain.Event:2").SerializeToString().hex()`.
struct TensorBoardEventTests {
    // MARK: - Golden bytes

    @Test func fileVersionEventMatchesReferenceEncoder() {
        #expect(TensorBoardEvent.fileVersion(wallTime: 1.5)
            == hexBytes("09000000000000f83f1a0d627261696e2e4576656e743a32"))
    }

    @Test func scalarEventMatchesReferenceEncoder() {
        let bytes = TensorBoardEvent.scalar(tag: "charts/SPS", value: -0.1, step: 1_234_567, wallTime: 1_700_000_000.25)
        #expect(bytes == hexBytes("0900001040fc54d9411087ad4b2a130a110a0a6368617274732f53505315cdccccbd"))
    }

    @Test func textEventMatchesReferenceEncoder() {
        let bytes = TensorBoardEvent.text(tag: "hp", markdown: "|a|b|", step: 3, wallTime: 1.5)
        #expect(bytes == hexBytes(
            "09000000000000f83f10032a1d0a1b0a026870420b0807120042057c617c627c4a080a060a0474657874"))
    }

    // MARK: - Round trips through an independent reader

    static let scalars: [(value: Float, step: Int)] = [
        (0, 0), (.pi, 1), (-3.4e38, 1 << 40), (1e-30, 7), (.infinity, 2), (-.infinity, 3),
        (.leastNonzeroMagnitude, 4),
    ]

    @Test(arguments: scalars)
    func scalarRoundTrips(value: Float, step: Int) throws {
        let bytes = TensorBoardEvent.scalar(tag: MetricName.episodicReturn, value: value, step: step, wallTime: 12.5)
        let decoded = try #require(decodeScalarEvent(bytes))
        #expect(decoded == DecodedScalar(wallTime: 12.5, step: step, tag: MetricName.episodicReturn, value: value))
    }

    @Test func nanKeepsItsBits() throws {
        let value = Float(nan: 0x123, signaling: false)
        let decoded = try #require(decodeScalarEvent(
            TensorBoardEvent.scalar(tag: "x", value: value, step: 0, wallTime: 0)))
        #expect(decoded.value.bitPattern == value.bitPattern)
    }

    @Test func multiByteTagsAndLongTextEncodeTheirLengths() throws {
        let markdown = String(repeating: "ü|", count: 200)
        let bytes = TensorBoardEvent.text(tag: "héllo", markdown: markdown, step: 300, wallTime: 0)
        let event = try #require(protobufFields(bytes))
        guard case let (5, .bytes(summary))? = event.last,
              let summaryFields = protobufFields(summary), case let (1, .bytes(value)) = summaryFields[0],
              let valueFields = protobufFields(value), case let (8, .bytes(tensor)) = valueFields[1],
              let tensorFields = protobufFields(tensor)
        else {
            Issue.record("text event did not parse")
            return
        }
        #expect(valueFields[0].1 == .bytes(Array("héllo".utf8)))
        #expect(tensorFields[0].1 == .varint(7))  // DT_STRING
        #expect(tensorFields[2].1 == .bytes(Array(markdown.utf8)))
    }
}
