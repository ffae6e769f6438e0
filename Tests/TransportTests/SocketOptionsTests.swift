import CNNG
import Testing
@testable import Transport

@Suite(.ownExecutor) struct SocketOptionsTests {
    // MARK: - Durations

    @Test func durationsBecomeWholeMilliseconds() {
        #expect(Duration.seconds(2).nngMillisecondsRoundedUp == 2000)
        #expect(Duration.microseconds(1).nngMillisecondsRoundedUp == 1)  // rounded up, never 0
        #expect(Duration.milliseconds(1500).nngMillisecondsRoundedUp == 1500)
        #expect(Duration.zero.nngMillisecondsRoundedUp == 0)
        #expect(Duration.seconds(1 << 40).nngMillisecondsRoundedUp == Int32.max)
        #expect(Optional<Duration>.none.nngMillisecondsRoundedUp == nng_duration(NNG_DURATION_INFINITE))
    }

    // MARK: - Applied options

    @Test func optionsAreAppliedToTheSocket() throws {
        let options = SocketOptions(
            maxMessageSize: 12345, receiveTimeout: .milliseconds(250), sendTimeout: nil,
            reconnectMinimum: .milliseconds(30), reconnectMaximum: .seconds(3), resendInterval: .seconds(7))
        let socket = try RequestSocket(options: options).socket
        defer { socket.close() }
        var size = 0
        #expect(nng_socket_get_size(socket.handle, NNG_OPT_RECVMAXSZ, &size) == 0)
        #expect(size == 12345)
        var milliseconds: nng_duration = 0
        #expect(nng_socket_get_ms(socket.handle, NNG_OPT_RECONNMAXT, &milliseconds) == 0)
        #expect(milliseconds == 3000)
        #expect(nng_socket_get_ms(socket.handle, NNG_OPT_REQ_RESENDTIME, &milliseconds) == 0)
        #expect(milliseconds == 7000)
        #expect(nng_socket_get_ms(socket.handle, NNG_OPT_RECVTIMEO, &milliseconds) == 0)
        #expect(milliseconds == 250)
    }

    @Test func nonPositiveMaxMessageSizeIsRejected() {
        // nng reads 0 as "unlimited", which Transport never allows.
        #expect(throws: NNGError.invalidArgument) { try ReplySocket(options: SocketOptions(maxMessageSize: 0)) }
    }
}
