import CNNG
import Testing
@testable import Transport

@Suite struct NNGErrorTests {
    // MARK: - Codes

    @Test func namedCasesRoundTripThroughTheirCodes() {
        for code in Int32(1)...31 {
            #expect(NNGError(code: code).code == code)
        }
        #expect(NNGError(code: Int32(NNG_ETIMEDOUT.rawValue)) == .timedOut)
        #expect(NNGError(code: Int32(NNG_ECLOSED.rawValue)) == .closed)
        #expect(NNGError(code: Int32(NNG_ECONNREFUSED.rawValue)) == .connectionRefused)
        #expect(NNGError(code: Int32(NNG_EMSGSIZE.rawValue)) == .messageTooLarge)
        #expect(NNGError(code: 0x1000_0002) == .other(code: 0x1000_0002))
    }

    @Test func descriptionCarriesNNGsText() {
        let error = NNGError.timedOut
        #expect(error.message == String(cString: nng_strerror(Int32(NNG_ETIMEDOUT.rawValue))))
        #expect(error.description.contains(error.message))
        #expect(error.description.contains("\(error.code)"))
    }

    @Test func badURLIsReportedAsAnError() throws {
        let socket = try PullSocket()
        #expect(throws: NNGError.self) { try socket.listen("nonsense://x") }
        socket.close()
    }

    @Test func secondListenerOnTheSamePortIsAddressInUse() throws {
        let first = try PullSocket()
        let url = try listenOnFreePort(first)
        let second = try PullSocket()
        #expect(throws: NNGError.addressInUse) { try second.listen(url) }
        first.close()
        second.close()
    }
}
