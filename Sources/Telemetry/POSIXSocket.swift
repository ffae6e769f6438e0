#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP socket descriptor and the POSIX calls the metrics endpoint makes on it.
///
/// All pointer work on `sockaddr` structures and I/O buffers is fenced in here;
/// the server above it deals in byte arrays. Not thread-safe: each socket is
/// used by one thread (the server thread) from creation to `close()`.
struct POSIXSocket {
    let descriptor: Int32

    /// A listening socket bound to `address`, with the kernel's choice of port when it is 0.
    static func listen(on address: ListenAddress, backlog: Int32 = 16) throws(TelemetryError) -> POSIXSocket {
        guard let family = ListenAddress.family(of: address.host) else {
            throw .invalidListenAddress(address.description, reason: "not a numeric address")
        }
        #if canImport(Glibc)
        let streamType = Int32(SOCK_STREAM.rawValue)
        #else
        let streamType = SOCK_STREAM
        #endif
        let fd = socket(family, streamType, 0)
        guard fd >= 0 else { throw .socketFailed(operation: "socket", reason: errnoDescription()) }
        let socket = POSIXSocket(descriptor: fd)
        do throws(TelemetryError) {
            var one: Int32 = 1
            // A restarted learner must be able to rebind while old connections sit in TIME_WAIT.
            _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            let bound: Int32
            if family == AF_INET {
                var v4 = sockaddr_in()
                v4.sin_family = sa_family_t(AF_INET)
                v4.sin_port = in_port_t(UInt16(address.port).bigEndian)
                _ = inet_pton(AF_INET, address.host, &v4.sin_addr)
                bound = withUnsafePointer(to: &v4) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            } else {
                var v6 = sockaddr_in6()
                v6.sin6_family = sa_family_t(AF_INET6)
                v6.sin6_port = in_port_t(UInt16(address.port).bigEndian)
                _ = inet_pton(AF_INET6, address.host, &v6.sin6_addr)
                bound = withUnsafePointer(to: &v6) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            }
            guard bound == 0 else {
                throw .socketFailed(operation: "bind \(address)", reason: errnoDescription())
            }
            guard posixListen(fd, backlog) == 0 else {
                throw .socketFailed(operation: "listen \(address)", reason: errnoDescription())
            }
            // Non-blocking accept: a client that resets between poll() and accept() must not stall the thread.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            return socket
        } catch {
            socket.close()
            throw error
        }
    }

    /// The port the socket is bound to.
    func localPort() -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer -> Int in
            if family == AF_INET {
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
        }
    }

    /// An accepted connection (blocking, close-on-exec), or nil if none was pending.
    func accept() -> POSIXSocket? {
        let fd = posixAccept(descriptor, nil, nil)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return POSIXSocket(descriptor: fd)
    }

    /// Bounds each blocking receive and send, so a silent client cannot hold the server thread.
    func setTimeouts(_ timeout: Duration) {
        let parts = timeout.components
        var value = timeval(tv_sec: Int(parts.seconds), tv_usec: .init(parts.attoseconds / 1_000_000_000_000))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        #if canImport(Darwin)
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    /// Up to `maxCount` bytes; empty at end of stream; nil on error or timeout.
    func receive(maxCount: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: maxCount)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, maxCount, 0) }
            if count >= 0 { return Array(buffer[..<count]) }
            if errno != EINTR { return nil }
        }
    }

    /// Sends all of `bytes`; false if the peer went away or a send timed out.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        #if canImport(Glibc)
        let flags = Int32(MSG_NOSIGNAL)  // a vanished scraper must not kill the learner with SIGPIPE
        #else
        let flags: Int32 = 0
        #endif
        return bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = posixSend(descriptor, raw.baseAddress! + offset, raw.count - offset, flags)
                if sent < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += sent
            }
            return true
        }
    }

    /// Stops sending, so the peer sees end of stream after the response.
    func shutdownWrite() {
        _ = shutdown(descriptor, Int32(SHUT_WR))
    }

    func close() {
        _ = closeDescriptor(descriptor)
    }
}

/// Waits until one of `descriptors` is readable; returns which ones are (empty on EINTR).
func pollReadable(_ descriptors: [Int32], timeoutMilliseconds: Int32 = -1) -> [Int32] {
    var fds = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
    let ready = poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
    guard ready > 0 else { return [] }
    return fds.filter { $0.revents != 0 }.map(\.fd)
}

// POSIXSocket's methods shadow these libc names inside the type; the aliases reach libc.
private func posixListen(_ fd: Int32, _ backlog: Int32) -> Int32 { listen(fd, backlog) }
private func posixAccept(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?) -> Int32 {
    accept(fd, address, length)
}
private func posixSend(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int {
    send(fd, bytes, count, flags)
}
